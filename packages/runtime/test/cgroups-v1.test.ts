// Exercises the v1 manager against the real controllers of this host (needs root and a
// cgroup v1 layout). Every cgroup and process made here is removed in teardown.
import * as fs from 'node:fs';
import t from 'tap';
import type { LinuxResources } from '@tsrunc/spec-schemas';
import { detectCgroupMode, openCgroup, reopenCgroupManager, type CgroupRecord } from '../src/cgroups/index.js';
import { cleanup, parked, release, waitExit } from './cgroup-processes.js';

const MiB = 1024 * 1024;
const mode = detectCgroupMode();
let counter = 0;
const uniqueId = (): string => `tsrunc-test-${process.pid}-${counter++}`;

const read = (dir: string | undefined, file: string): string => fs.readFileSync(`${dir}/${file}`, 'utf8').trim();

t.test('v1 manager', { skip: mode.version !== 1 ? 'host is not cgroup v1' : false }, async (t) => {
  t.test('applies resources, moves, freezes, kills and removes', async (t) => {
    const resources: LinuxResources = {
      memory: { limit: 64 * MiB },
      pids: { limit: 20 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' },
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      ],
    };
    const cg = openCgroup({ id: uniqueId(), systemd: false, resources });
    const child = parked('exec sleep 30');
    t.teardown(() => cleanup(cg, [child]));
    cg.create();

    const { paths } = cg.toJSON();
    t.equal(read(paths['memory'], 'memory.limit_in_bytes'), String(64 * MiB));
    t.equal(read(paths['pids'], 'pids.max'), '20');
    t.equal(read(paths['cpu'], 'cpu.shares'), '512');
    t.equal(read(paths['cpu'], 'cpu.cfs_quota_us'), '50000');
    t.equal(read(paths['cpu'], 'cpu.cfs_period_us'), '100000');
    t.equal(read(paths['cpuset'], 'cpuset.cpus'), '0');
    t.not(read(paths['cpuset'], 'cpuset.mems'), '', 'cpuset.mems inherited from the parent');
    t.equal(read(paths['devices'], 'devices.list'), 'c 1:3 rwm');

    cg.addProcess(child.pid ?? -1);
    t.same(cg.pids(), [child.pid]);
    t.same(reopenCgroupManager(JSON.parse(JSON.stringify(cg)) as CgroupRecord).pids(), [child.pid], 'the record reopens the same cgroup');

    cg.freeze();
    t.equal(cg.state(), 'frozen');
    t.equal(read(paths['freezer'], 'freezer.state'), 'FROZEN');
    cg.thaw();
    t.equal(cg.state(), 'thawed');
    release(child);

    const stats = cg.stats();
    t.equal(stats.pids.current, 1);
    t.equal(stats.pids.limit, 20);
    t.equal(stats.memory.usage.limit, 64 * MiB);
    t.ok(stats.cpu.usage.total >= 0 && Array.isArray(stats.cpu.usage.percpu));

    cg.killAll('SIGKILL');
    t.equal(await waitExit(child, 5000), 'SIGKILL');
    cg.destroy();
    for (const dir of Object.values(paths)) t.notOk(fs.existsSync(dir), `${dir} removed`);
  });

  t.test('requests the host cannot honour fail clearly', async (t) => {
    const cg = openCgroup({ id: uniqueId(), systemd: false });
    t.teardown(() => cleanup(cg, []));
    cg.create();
    if (mode.v1Mounts['hugetlb'] === undefined) {
      t.throws(() => cg.set({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }), /controller "hugetlb" is not mounted.*hugetlb\.2MB\.limit_in_bytes/);
    }
    t.throws(() => cg.set({ unified: { 'memory.max': '1' } }), /requires cgroup v2/);
    t.throws(() => cg.set({ memory: { swappiness: 101 } }), /swappiness/);
    t.throws(() => cg.set({ cpu: { shares: 1 } }), /cpu.shares 1 is not in \[2, 262144\]/);
    t.throws(() => cg.set({ devices: [{ allow: true, type: 'x' }] }), /invalid device rule type/);
  });

  t.test('systemd paths are validated, then refused', async (t) => {
    t.throws(() => openCgroup({ id: 'x', systemd: true, cgroupsPath: 'nope' }), /slice:prefix:name/);
    t.throws(() => openCgroup({ id: 'x', systemd: true, cgroupsPath: 'system.slice:tsrunc:x' }), /systemd/);
  });
});
