// The lifecycle as containerd drives it: create, state, start, kill, delete; side by side with
// runc on the same bundle.
import t from 'tap';
import { baseSpec, makeBundle, RUNC, runtime, uniqueId, type Runtime } from '../src/harness.js';

function state(rt: Runtime, id: string): Record<string, unknown> {
  const r = rt.call(['state', id]);
  if (r.status !== 0) throw new Error(`${rt.name} state ${id}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function waitForStatus(rt: Runtime, id: string, status: string): string {
  let seen = '';
  for (let i = 0; i < 200 && seen !== status; i++) {
    seen = String(state(rt, id).status);
    if (seen !== status) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  return seen;
}

for (const binary of ['tsrunc', RUNC]) {
  t.test(`create/start/kill/delete with ${binary}`, async (t) => {
    const rt = binary === 'tsrunc' ? runtime(t) : runtime(t, RUNC);
    const bundle = makeBundle(t, baseSpec(['sleep', '100']));
    const id = uniqueId();
    const created = rt.call(['create', '--bundle', bundle.dir, id]);
    t.equal(created.status, 0, `create: ${created.stderr}`);
    const s1 = state(rt, id);
    t.same(Object.keys(s1).sort(), ['bundle', 'created', 'id', 'ociVersion', 'owner', 'pid', 'rootfs', 'status']);
    t.match(s1, { id, status: 'created', bundle: bundle.dir, rootfs: bundle.rootfs });
    t.ok(Number(s1.pid) > 0, 'a created container has its init pid');
    t.equal(rt.call(['create', '--bundle', bundle.dir, id]).status, 1, 'an ID in use is refused');

    t.equal(rt.call(['start', id]).status, 0, 'start');
    t.equal(state(rt, id).status, 'running');
    t.equal(rt.call(['start', id]).status, 1, 'a second start fails');
    const refused = rt.call(['delete', id]);
    t.equal(refused.status, 1, 'delete refuses a running container');
    t.match(refused.stderr, /not stopped: running/);

    t.equal(rt.call(['kill', id, 'KILL']).status, 0, 'kill KILL');
    t.equal(waitForStatus(rt, id, 'stopped'), 'stopped');
    t.equal(rt.call(['delete', id]).status, 0, 'delete a stopped container');
    const gone = rt.call(['state', id]);
    t.equal(gone.status, 1);
    t.match(gone.stderr, /container does not exist/);
  });
}

t.test('run exits with the status of the container process, as runc', async (t) => {
  for (const binary of ['tsrunc', RUNC]) {
    const rt = binary === 'tsrunc' ? runtime(t) : runtime(t, RUNC);
    const bundle = makeBundle(t, baseSpec(['sh', '-c', 'echo out; echo err >&2; exit 7']));
    const r = rt.call(['run', '--bundle', bundle.dir, uniqueId()]);
    t.equal(r.status, 7, `${binary}: exit status`);
    t.equal(r.stdout, 'out\n', `${binary}: stdout passed through`);
    t.equal(r.stderr, 'err\n', `${binary}: stderr passed through`);
  }
});

t.test('kill takes signal names and numbers, and delete --force stops a running container', async (t) => {
  const rt = runtime(t);
  const bundle = makeBundle(t, baseSpec(['sleep', '100']));
  const id = uniqueId();
  t.equal(rt.call(['run', '--detach', '--bundle', bundle.dir, id]).status, 0);
  t.equal(rt.call(['kill', id, 'SIGCONT']).status, 0, 'SIGCONT by name');
  t.equal(rt.call(['kill', id, '18']).status, 0, 'SIGCONT by number');
  const bad = rt.call(['kill', id, 'SIGNOPE']);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /unknown signal/);
  t.equal(rt.call(['delete', '--force', id]).status, 0);
  t.equal(rt.call(['state', id]).status, 1, 'gone after delete --force');
});

t.test('list shows containers as a table, as JSON and quietly', async (t) => {
  const rt = runtime(t);
  const bundle = makeBundle(t, baseSpec(['sleep', '100']));
  const id = uniqueId();
  t.equal(rt.call(['create', '--bundle', bundle.dir, id]).status, 0);
  const table = rt.call(['list']);
  t.match(table.stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\n/);
  t.match(table.stdout, new RegExp(`^${id}\\s+\\d+\\s+created\\s+${bundle.dir}\\s+\\S+\\s+root$`, 'm'));
  const json = JSON.parse(rt.call(['list', '--format', 'json']).stdout) as { id: string; status: string }[];
  t.same(json.map((c) => [c.id, c.status]), [[id, 'created']]);
  t.equal(rt.call(['list', '-q']).stdout, `${id}\n`);
});

t.test('concurrent creates of one ID: exactly one wins', async (t) => {
  const rt = runtime(t);
  const bundle = makeBundle(t, baseSpec(['sleep', '100']));
  const id = uniqueId();
  const { spawn } = await import('node:child_process');
  const { TSRUNC } = await import('../src/harness.js');
  const codes = await Promise.all([0, 1, 2].map(() => new Promise<number>((resolve) => {
    spawn(TSRUNC, ['--root', rt.root, 'create', '--bundle', bundle.dir, id], { stdio: 'ignore' })
      .on('exit', (code) => resolve(code ?? -1));
  })));
  t.same(codes.sort(), [0, 1, 1]);
});

t.test('--preserve-fds passes the caller\'s fd 3 to the container process', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { TSRUNC } = await import('../src/harness.js');
  const rt = runtime(t);
  const bundle = makeBundle(t, baseSpec(['sh', '-c', 'echo through fd 3 >&3']));
  const file = path.join(bundle.dir, 'fd3.txt');
  const fd = fs.openSync(file, 'w');
  try {
    const r = spawnSync(TSRUNC, ['--root', rt.root, 'run', '--preserve-fds', '1', '--bundle', bundle.dir, uniqueId()], { stdio: ['ignore', 'ignore', 'pipe', fd], encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
  } finally {
    fs.closeSync(fd);
  }
  t.equal(fs.readFileSync(file, 'utf8'), 'through fd 3\n');
});
