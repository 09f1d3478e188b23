// Bad input: a clear one-line error, a non-zero exit, and nothing left behind (state dir,
// cgroup, mount or process).
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { baseSpec, makeBundle, runtime, uniqueId } from '../src/harness.js';

function mountsNaming(text: string): number {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(text)).length;
}

function processesWithArg(arg: string): number {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(arg); } catch { return false; }
  }).length;
}

const cases: { name: string; error: RegExp; make(dir: string, rootfs: string): void }[] = [
  { name: 'malformed JSON', error: /config\.json.*JSON/i, make: (dir) => fs.writeFileSync(path.join(dir, 'config.json'), '{"ociVersion": "1.2.0", ') },
  { name: 'schema-invalid config', error: /\/process\/args/, make: (dir) => {
    const spec = baseSpec(['true']) as unknown as { process: { args: unknown } };
    spec.process.args = 'true';
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  } },
  { name: 'missing rootfs', error: /rootfs \(.*\) does not exist/, make: (_dir, rootfs) => fs.rmSync(rootfs, { recursive: true }) },
  { name: 'no config.json', error: /config\.json not found/, make: (dir) => fs.rmSync(path.join(dir, 'config.json')) },
  { name: 'unknown capability', error: /CAP_NOPE/, make: (dir) => {
    const spec = baseSpec(['true']);
    spec.process!.capabilities!.bounding!.push('CAP_NOPE');
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  } },
];

for (const c of cases) {
  t.test(`create refuses ${c.name}`, async (t) => {
    const rt = runtime(t);
    const bundle = makeBundle(t, baseSpec(['sleep', '100']));
    c.make(bundle.dir, bundle.rootfs);
    const id = uniqueId('bad');
    // This bundle's mounts only: suites running beside this one mount their own (dockerd's, runc's).
    const mountsBefore = mountsNaming(bundle.dir);
    const r = rt.call(['create', '--bundle', bundle.dir, id]);
    t.not(r.status, 0, 'non-zero exit');
    const lines = r.stderr.trim().split('\n');
    t.equal(lines.length, 1, `one line of error: ${r.stderr}`);
    t.match(lines[0], c.error);
    t.notOk(fs.existsSync(path.join(rt.root, id)), 'no state dir');
    t.equal(mountsNaming(bundle.dir), mountsBefore, 'no mount left');
    t.notOk(fs.existsSync('/tsrunc-conf-escaped'), 'nothing landed outside the rootfs');
    t.notOk(fs.existsSync(`/sys/fs/cgroup/pids/${id}`), 'no cgroup left (v1 pids)');
    t.equal(processesWithArg(bundle.dir), 0, 'no process left');
  });
}

t.test('a mount destination through a symlink to / lands inside the rootfs, not on the host', async (t) => {
  const rt = runtime(t);
  const spec = baseSpec(['sh', '-c', 'grep " /tsrunc-conf-escaped " /proc/self/mountinfo | cut -d" " -f9']);
  spec.mounts!.push({ destination: '/escape/tsrunc-conf-escaped', type: 'tmpfs', source: 'tmpfs' });
  const bundle = makeBundle(t, spec);
  fs.symlinkSync('/', path.join(bundle.rootfs, 'escape'));
  const r = rt.call(['run', '--bundle', bundle.dir, uniqueId()]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'tmpfs\n', 'the container sees the tmpfs at the symlink target inside its root');
  t.ok(fs.existsSync(path.join(bundle.rootfs, 'tsrunc-conf-escaped')), 'the mount point was made in the rootfs');
  t.notOk(fs.existsSync('/tsrunc-conf-escaped'), 'nothing landed on the host');
});

t.test('unknown commands and flags fail clearly', async (t) => {
  const rt = runtime(t);
  const cmd = rt.call(['frobnicate']);
  t.equal(cmd.status, 3);
  t.match(cmd.stderr, /No help topic for 'frobnicate'/);
  const flag = rt.call(['create', '--bogus', uniqueId()]);
  t.equal(flag.status, 1);
  t.match(flag.stderr, /flag provided but not defined: --?bogus/);
  const args = rt.call(['state']);
  t.equal(args.status, 1);
  t.match(args.stderr, /requires exactly 1 argument/);
  const id = rt.call(['state', '../etc']);
  t.equal(id.status, 1);
  t.match(id.stderr, /invalid id format/);
});

t.test('--log-format json writes runc\'s JSON log lines to --log', async (t) => {
  const rt = runtime(t);
  const log = path.join(rt.root, 'log.json');
  const r = rt.call(['--log', log, '--log-format', 'json', 'state', uniqueId()]);
  t.equal(r.status, 1);
  t.equal(r.stderr, 'container does not exist\n', 'plain message on stderr');
  const entry = JSON.parse(fs.readFileSync(log, 'utf8').trim()) as Record<string, string>;
  t.same(Object.keys(entry).sort(), ['level', 'msg', 'time']);
  t.match(entry, { level: 'error', msg: 'container does not exist' });
});
