// podman drives tsrunc as its OCI runtime (`podman --runtime`): run, exec, stop, rm, with a storage
// and run root of the test's own.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { busyboxLayout } from '../src/containerd.js';
import { TSRUNC } from '../src/harness.js';

const hasPodman = spawnSync('podman', ['--version']).status === 0;
// podman asks for RLIMIT_NOFILE/NPROC far above this machine's hard limits; raising them needs
// CAP_SYS_RESOURCE, which this machine's root may lack (runc fails the same way): ask for less.
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];

t.test('podman --runtime tsrunc', { skip: hasPodman ? false : 'podman is not installed (scripts/setup-host.sh installs it)' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-podman-'));
  const podman = (args: string[]) => spawnSync('podman', [
    '--root', path.join(dir, 'storage'), '--runroot', path.join(dir, 'run'), '--cgroup-manager', 'cgroupfs',
    '--runtime', TSRUNC, ...args,
  ], { encoding: 'utf8', timeout: 120_000 });
  t.teardown(() => {
    podman(['rm', '--all', '--force']);
    podman(['system', 'reset', '--force']);
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
      .map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(dir)).reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const image = `oci:${busyboxLayout(t, 'latest')}:latest`;

  const once = podman(['run', '--rm', ...LIMITS, image, 'sh', '-c', 'echo hello from podman; exit 4']);
  t.equal(once.stdout.trim().split('\n').pop(), 'hello from podman', `output (stderr: ${once.stderr})`);
  t.equal(once.status, 4, 'podman reports the exit status');

  const started = podman(['run', '-d', '--name', 'long', ...LIMITS, image, 'sleep', '300']);
  t.equal(started.status, 0, `run -d: ${started.stderr}`);
  const exec = podman(['exec', 'long', 'cat', '/proc/1/cmdline']);
  t.equal(exec.status, 0, `exec: ${exec.stderr}`);
  t.match(exec.stdout, /^sleep\x00300/, 'exec sees the container\'s pid 1');
  t.equal(podman(['stop', '-t', '1', 'long']).status, 0, 'stop');
  t.equal(podman(['rm', 'long']).status, 0, 'rm');
});
