// podman drives tsrunc as its OCI runtime (`podman --runtime`): run, exec, stop, rm, with a storage
// and run root of the test's own.
import t from 'tap';
import { busyboxLayout } from '../src/containerd.js';
import { hasPodman, PODMAN_LIMITS, startPodman } from '../src/podman.js';

t.test('podman --runtime tsrunc', { skip: hasPodman ? false : 'podman is not installed (scripts/setup-host.sh installs it)' }, async (t) => {
  const podman = startPodman(t);
  const image = `oci:${busyboxLayout(t, 'latest')}:latest`;

  const once = podman(['run', '--rm', ...PODMAN_LIMITS, image, 'sh', '-c', 'echo hello from podman; exit 4']);
  t.equal(once.stdout.trim().split('\n').pop(), 'hello from podman', `output (stderr: ${once.stderr})`);
  t.equal(once.status, 4, 'podman reports the exit status');

  const started = podman(['run', '-d', '--name', 'long', ...PODMAN_LIMITS, image, 'sleep', '300']);
  t.equal(started.status, 0, `run -d: ${started.stderr}`);
  const exec = podman(['exec', 'long', 'cat', '/proc/1/cmdline']);
  t.equal(exec.status, 0, `exec: ${exec.stderr}`);
  t.match(exec.stdout, /^sleep\x00300/, 'exec sees the container\'s pid 1');
  t.equal(podman(['stop', '-t', '1', 'long']).status, 0, 'stop');
  t.equal(podman(['rm', 'long']).status, 0, 'rm');
});
