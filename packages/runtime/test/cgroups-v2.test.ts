// Exercises the v2 manager on a real cgroup2 hierarchy: /sys/fs/cgroup itself on a pure v2
// host, or the hybrid /sys/fs/cgroup/unified mount (which may lack most controllers; the
// parts needing them are skipped with the reason). Everything made here is removed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { detectCgroupMode, reopenCgroupManager, type CgroupRecord } from '../src/cgroups/index.js';
import { V2Manager } from '../src/cgroups/v2.js';
import { cleanup, sleeper, waitExit } from './cgroup-processes.js';

const mode = detectCgroupMode();
const root = mode.unifiedRoot;
let counter = 0;
const uniqueDir = (): string => path.join(root ?? '/nonexistent', `tsrunc-test-${process.pid}-${counter++}`);

function controllers(dir: string): string[] {
  return fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim().split(' ').filter((c) => c !== '');
}

t.test('v2 manager', { skip: root === undefined ? 'no cgroup2 hierarchy mounted' : false }, async (t) => {
  const hierarchy = root ?? '';
  // create() enables the root's controllers for its children, as runc does; put the root
  // back as it was once the tests are done.
  const subtreeBefore = fs.readFileSync(path.join(hierarchy, 'cgroup.subtree_control'), 'utf8').trim().split(' ').filter((c) => c !== '');
  t.teardown(() => {
    const now = fs.readFileSync(path.join(hierarchy, 'cgroup.subtree_control'), 'utf8').trim().split(' ').filter((c) => c !== '');
    for (const c of now.filter((c) => !subtreeBefore.includes(c))) {
      try {
        fs.writeFileSync(path.join(hierarchy, 'cgroup.subtree_control'), `-${c}`);
      } catch {
        // another cgroup of the host may now use it; leaving it enabled is harmless
      }
    }
  });

  t.test('moves, freezes, signals, kills and removes', async (t) => {
    const dir = uniqueDir();
    const cg = new V2Manager(dir, hierarchy, { unified: { 'cgroup.max.descendants': '7' } });
    const child = sleeper();
    t.teardown(() => cleanup(cg, [child]));
    cg.create();
    t.equal(fs.readFileSync(path.join(dir, 'cgroup.max.descendants'), 'utf8').trim(), '7', 'unified key written verbatim');
    t.same(cg.toJSON(), { version: 2, paths: { unified: dir } });

    cg.addProcess(child.pid ?? -1);
    t.same(cg.pids(), [child.pid]);
    const reopened = reopenCgroupManager(JSON.parse(JSON.stringify(cg)) as CgroupRecord);
    t.same(reopened.pids(), [child.pid], 'the record reopens the same cgroup');

    cg.freeze();
    t.equal(cg.state(), 'frozen');
    t.match(fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8'), /^frozen 1$/m);
    cg.thaw();
    t.equal(cg.state(), 'thawed');

    // SIGSTOP goes through the freeze/signal/thaw path; SIGKILL through cgroup.kill.
    cg.killAll('SIGSTOP');
    t.equal(cg.state(), 'thawed', 'killAll thaws what it froze');
    // Delivery after the thaw is asynchronous: give the task a moment to stop.
    const stopped = () => /^\d+ \(sleep\) T /.test(fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8'));
    for (let i = 0; i < 100 && !stopped(); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    t.ok(stopped(), 'the task got the signal');
    cg.killAll('SIGKILL');
    t.equal(await waitExit(child, 5000), 'SIGKILL');
    cg.destroy();
    t.notOk(fs.existsSync(dir), 'directory removed');
    t.doesNotThrow(() => cg.destroy(), 'destroying twice is fine');
  });

  t.test('sub-cgroups are included and removed', async (t) => {
    const dir = uniqueDir();
    const cg = new V2Manager(dir, hierarchy);
    const child = sleeper();
    t.teardown(() => cleanup(cg, [child]));
    cg.create();
    fs.mkdirSync(path.join(dir, 'inner'));
    fs.writeFileSync(path.join(dir, 'inner', 'cgroup.procs'), String(child.pid));
    t.same(cg.pids(), [child.pid]);
    cg.killAll('SIGKILL');
    await waitExit(child, 5000);
    cg.destroy();
    t.notOk(fs.existsSync(dir));
  });

  t.test('device rules become an eBPF filter that the kernel enforces', async (t) => {
    const dir = uniqueDir();
    const cg = new V2Manager(dir, hierarchy);
    t.teardown(() => cleanup(cg, []));
    cg.create();
    cg.set({ devices: [{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'r' }] });
    // The shell moves itself into the cgroup before touching any device.
    const probe = `echo $$ > ${dir}/cgroup.procs; echo x > /dev/null && echo null-rw; head -c1 /dev/zero > /dev/null && echo zero-r; ` +
      '(echo x > /dev/zero) 2>/dev/null || echo zero-w-denied; (head -c1 /dev/full > /dev/null) 2>/dev/null || echo full-denied';
    const run = () => spawnSync('sh', ['-c', probe], { encoding: 'utf8' }).stdout;
    t.equal(run(), 'null-rw\nzero-r\nzero-w-denied\nfull-denied\n');
    cg.set({ devices: [{ allow: true, access: 'rwm' }] });
    t.equal(run(), 'null-rw\nzero-r\n', 'allow-all removes the filter: /dev/zero writable, /dev/full readable');
  });

  t.test('bad and unavailable requests fail clearly', async (t) => {
    const dir = uniqueDir();
    const cg = new V2Manager(dir, hierarchy);
    t.teardown(() => cleanup(cg, []));
    cg.create();
    t.throws(() => cg.set({ unified: { '../cgroup.procs': '1' } }), /unified key "[^"]*" is not a controller file/);
    t.throws(() => cg.set({ unified: { 'cgroup.procs': '1' } }), /unified key "[^"]*" is not a controller file/);
    t.throws(() => cg.set({ cpu: { realtimeRuntime: 1000 } }), /not supported on cgroup v2/);
    // Only reachable where the memory controller is missing, as on a hybrid host.
    if (!controllers(dir).includes('memory')) {
      t.throws(() => cg.set({ memory: { limit: 1 << 25 } }), /memory\.max does not exist: the "memory" controller is not available/);
      t.throws(() => cg.watchOom(() => undefined), /memory\.events does not exist/);
    }
  });

  // Children can only get the controllers their root offers.
  const missing = ['memory', 'pids', 'cpu'].filter((c) => !controllers(hierarchy).includes(c));
  const skipLimits = missing.length > 0 ? `controllers ${missing.join(', ')} are not available in ${hierarchy}` : false;
  if (skipLimits) console.log(`# skipping v2 limit checks: ${skipLimits}`);

  t.test('memory and pids limits', { skip: skipLimits }, async (t) => {
    const dir = uniqueDir();
    const cg = new V2Manager(dir, hierarchy);
    t.teardown(() => cleanup(cg, []));
    cg.create();
    cg.set({ memory: { limit: 64 << 20, swap: 96 << 20, reservation: 32 << 20 }, pids: { limit: 20 }, cpu: { shares: 1024, quota: 50000, period: 100000 } });
    const read = (file: string): string => fs.readFileSync(path.join(dir, file), 'utf8').trim();
    t.equal(read('memory.max'), String(64 << 20));
    t.equal(read('memory.low'), String(32 << 20));
    if (fs.existsSync(path.join(dir, 'memory.swap.max'))) t.equal(read('memory.swap.max'), String(32 << 20));
    t.equal(read('pids.max'), '20');
    t.equal(read('cpu.weight'), '39');
    t.equal(read('cpu.max'), '50000 100000');
    const stats = cg.stats();
    t.equal(stats.memory.usage.limit, 64 << 20);
    t.equal(stats.pids.limit, 20);
  });
});
