// containerd drives tsrunc through its runc shim (`ctr run --runc-binary`): create, start, exec,
// pause/resume, kill, delete, exactly as it drives runc.
import t from 'tap';
import { TSRUNC } from '../src/harness.js';
import { busyboxArchive, startContainerd } from '../src/containerd.js';

t.test('ctr run --runc-binary tsrunc', async (t) => {
  const containerd = await startContainerd(t);
  const ref = 'tsrunc.test/busybox:latest';
  const imported = containerd.ctr(['image', 'import', '--index-name', ref, busyboxArchive(t, 'latest')]);
  t.equal(imported.status, 0, `import: ${imported.stderr}`);

  const once = containerd.ctr(['run', '--rm', '--runc-binary', TSRUNC, ref, 'once', 'sh', '-c', 'echo hello from tsrunc; exit 3']);
  t.equal(once.stdout.trim(), 'hello from tsrunc', `output (stderr: ${once.stderr})`);
  t.equal(once.status, 3, 'ctr reports the container\'s exit status');

  const detached = containerd.ctr(['run', '-d', '--runc-binary', TSRUNC, ref, 'long', 'sleep', '300']);
  t.equal(detached.status, 0, `run -d: ${detached.stderr}`);
  t.teardown(() => {
    containerd.ctr(['task', 'kill', '-s', 'KILL', 'long']);
    containerd.ctr(['task', 'delete', '-f', 'long']);
    containerd.ctr(['container', 'delete', 'long']);
  });
  t.match(containerd.ctr(['task', 'ls']).stdout, /long\s+\d+\s+RUNNING/);
  const exec = containerd.ctr(['task', 'exec', '--exec-id', 'e1', 'long', 'sh', '-c', 'echo $$; cat /proc/1/cmdline']);
  t.equal(exec.status, 0, `exec: ${exec.stderr}`);
  t.match(exec.stdout, /sleep/, 'exec sees the container\'s pid 1');
  t.equal(containerd.ctr(['task', 'pause', 'long']).status, 0, 'pause');
  t.match(containerd.ctr(['task', 'ls']).stdout, /long\s+\d+\s+PAUSED/);
  t.equal(containerd.ctr(['task', 'resume', 'long']).status, 0, 'resume');
  t.match(containerd.ctr(['task', 'ls']).stdout, /long\s+\d+\s+RUNNING/);
  const ps = containerd.ctr(['task', 'ps', 'long']);
  t.equal(ps.status, 0, `ps: ${ps.stderr}`);
  t.equal(containerd.ctr(['task', 'kill', '-s', 'TERM', 'long']).status, 0, 'kill');
  const deleted = containerd.ctr(['task', 'delete', 'long'], 30_000);
  // the task may need a moment to exit after SIGTERM reaches sleep as pid 1 (ignored): force then
  if (deleted.status !== 0) t.equal(containerd.ctr(['task', 'delete', '-f', 'long']).status, 0, 'delete -f');
  t.equal(containerd.ctr(['container', 'delete', 'long']).status, 0, 'container delete');
});
