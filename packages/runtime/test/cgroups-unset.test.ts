// The values clients send for "not set" (dockerd: cpu.shares 0, blockIO.weight 0, a pids limit of
// 0...) must leave the cgroup as it is, as runc leaves it, on this host's real controllers.
import * as fs from 'node:fs';
import t from 'tap';
import type { LinuxResources } from '@tsrunc/spec-schemas';
import { detectCgroupMode, openCgroup } from '../src/cgroups/index.js';
import { cleanup } from './cgroup-processes.js';

const MiB = 1024 * 1024;
const mode = detectCgroupMode();
const read = (dir: string | undefined, file: string): string => fs.readFileSync(`${dir}/${file}`, 'utf8').trim();

/**
 * Sets what runc treats as unset: exactly what dockerd sends when no option is given, then every
 * other zero runc skips (plus `extra`), then empty objects.
 */
function setUnsetValues(cg: ReturnType<typeof openCgroup>, extra: LinuxResources = {}): void {
  cg.set({ memory: { disableOOMKiller: false }, cpu: { shares: 0 }, blockIO: { weight: 0 } });
  cg.set({
    memory: { limit: 0, reservation: 0, swap: 0, kernel: 0, kernelTCP: 0 },
    cpu: { shares: 0, quota: 0, period: 0, realtimeRuntime: 0, realtimePeriod: 0, cpus: '', mems: '' },
    blockIO: { weight: 0, leafWeight: 0, weightDevice: [{ major: 1, minor: 3, weight: 0, leafWeight: 0 }] },
    pids: { limit: 0 },
    network: { classID: 0 },
    ...extra,
  });
  cg.set({ pids: {}, blockIO: {}, memory: {}, cpu: {} });
}

t.test('v1: zero values change nothing, -1 lifts the pids limit', { skip: mode.version !== 1 ? 'host is not cgroup v1' : false }, async (t) => {
  const limits: LinuxResources = {
    memory: { limit: 64 * MiB, reservation: 32 * MiB },
    pids: { limit: 20 },
    cpu: { shares: 512, quota: 50000, period: 100000 },
  };
  const cg = openCgroup({ id: `tsrunc-test-unset-${process.pid}`, systemd: false, resources: limits });
  t.teardown(() => cleanup(cg, []));
  cg.create();
  const { paths } = cg.toJSON();
  const files: [string, string][] = [
    ['memory', 'memory.limit_in_bytes'], ['memory', 'memory.soft_limit_in_bytes'], ['memory', 'memory.oom_control'],
    ['pids', 'pids.max'], ['cpu', 'cpu.shares'], ['cpu', 'cpu.cfs_quota_us'], ['cpu', 'cpu.cfs_period_us'],
  ];
  const snapshot = () => files.map(([controller, file]) => `${file}=${read(paths[controller], file)}`);
  const before = snapshot();
  t.match(before, ['memory.limit_in_bytes=67108864', /./, /oom_kill_disable 0/, 'pids.max=20', 'cpu.shares=512', 'cpu.cfs_quota_us=50000']);

  setUnsetValues(cg, { unified: {} });
  t.same(snapshot(), before, 'every file keeps its value');

  cg.set({ pids: { limit: -1 } });
  t.equal(read(paths['pids'], 'pids.max'), 'max', 'a negative limit is "no limit"');
});

t.test('v2: zero values change nothing, -1 lifts the pids limit', { skip: mode.version !== 2 ? 'host is not cgroup v2' : false }, async (t) => {
  const limits: LinuxResources = { memory: { limit: 64 * MiB }, pids: { limit: 20 }, cpu: { shares: 512, quota: 50000, period: 100000 } };
  const cg = openCgroup({ id: `tsrunc-test-unset-${process.pid}`, systemd: false, resources: limits });
  t.teardown(() => cleanup(cg, []));
  cg.create();
  const dir = cg.toJSON().paths['unified'];
  const files = ['memory.max', 'memory.low', 'pids.max', 'cpu.weight', 'cpu.max'];
  const snapshot = () => files.map((file) => `${file}=${read(dir, file)}`);
  const before = snapshot();
  t.match(before, ['memory.max=67108864', /./, 'pids.max=20', /./, 'cpu.max=50000 100000']);

  setUnsetValues(cg);
  t.same(snapshot(), before, 'every file keeps its value (cpu.max is not reset to "max")');

  cg.set({ pids: { limit: -1 } });
  t.equal(read(dir, 'pids.max'), 'max', 'a negative limit is "no limit"');
});
