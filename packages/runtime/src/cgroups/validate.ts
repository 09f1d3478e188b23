// linux.resources checked against what the kernel's cgroup files accept, before anything exists:
// create validates here before its state dir and cgroup are made, update before it writes a
// first file, so a refused value never leaves a container or a half-applied update behind.
// Only the config is read, and the host's hugepage sizes.
import * as fs from 'node:fs';
import type { LinuxResources } from '@tsrunc/spec-schemas';
import { CgroupError } from './files.js';

/** The kernel's bounds: cpu.shares (v1 clamps to them), cfs period and minimum quota (both in us). */
const SHARES = { min: 2, max: 262144 };
const CFS_PERIOD = { min: 1000, max: 1000000 };
const CFS_QUOTA_MIN = 1000;

function invalid(message: string): never {
  throw new CgroupError(`invalid configuration: linux.resources.${message}`);
}

/** A byte limit: positive, or -1 for none; 0 means not set. */
function checkLimit(field: string, value: number | undefined): void {
  if (value !== undefined && value < -1) invalid(`${field} ${value} is negative (-1 is no limit)`);
}

/** The kernel's list format of cpuset.cpus and cpuset.mems: "0-3,5". */
function checkList(field: string, value: string | undefined): void {
  if (value !== undefined && value !== '' && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) invalid(`${field} "${value}" is not a list such as "0-3,5"`);
}

/** runc's names of hugepage sizes ("2MB", "1GB") against the host's /sys/kernel/mm/hugepages. */
function checkPageSize(pageSize: string): void {
  const m = /^(\d+)(KB|MB|GB)$/.exec(pageSize);
  if (!m) invalid(`hugepageLimits pageSize "${pageSize}" is not a size such as "2MB"`);
  const kB = Number(m[1]) * { KB: 1, MB: 1024, GB: 1024 * 1024 }[m[2] as 'KB' | 'MB' | 'GB'];
  if (!fs.existsSync(`/sys/kernel/mm/hugepages/hugepages-${kB}kB`)) invalid(`hugepageLimits (hugetlb) pageSize "${pageSize}" is not a huge page size of this host`);
}

/** `unified` keys are file names in the cgroup directory, nothing else. */
function checkUnifiedKey(key: string): void {
  if (key === '' || key.includes('/') || key === '.' || key === '..' || (key.startsWith('cgroup.') && !key.startsWith('cgroup.max.'))) {
    invalid(`unified key "${key}" is not a controller file`);
  }
}

function unsupportedOnV2(field: string): never {
  throw new CgroupError(`invalid configuration: linux.resources.${field} is not supported on cgroup v2`);
}

/** Fields v2 has no file for (runc refuses them too) and unified keys. */
function checkV2(r: LinuxResources): void {
  const { memory: m, cpu: c, blockIO: b } = r;
  if ((c?.realtimePeriod ?? 0) !== 0 || (c?.realtimeRuntime ?? 0) !== 0) unsupportedOnV2('cpu.realtimePeriod/realtimeRuntime');
  if ((m?.kernelTCP ?? 0) !== 0) unsupportedOnV2('memory.kernelTCP');
  if (m?.swappiness !== undefined) unsupportedOnV2('memory.swappiness');
  if (m?.disableOOMKiller === true) unsupportedOnV2('memory.disableOOMKiller');
  // v2 is always hierarchical, so only asking for the opposite is an error.
  if (m?.useHierarchy === false) unsupportedOnV2('memory.useHierarchy=false');
  if ((b?.leafWeight ?? 0) !== 0 || (b?.weightDevice ?? []).some((d) => (d.leafWeight ?? 0) !== 0)) unsupportedOnV2('blockIO leaf weights');
  if ((r.network?.classID ?? 0) !== 0 || (r.network?.priorities ?? []).length > 0) unsupportedOnV2('network (net_cls/net_prio do not exist in v2)');
  for (const key of Object.keys(r.unified ?? {})) checkUnifiedKey(key);
}

function checkV1(r: LinuxResources): void {
  // runc's words (its cgroups.bats looks for "invalid configuration").
  if (Object.keys(r.unified ?? {}).length > 0) throw new CgroupError('invalid configuration: cannot use unified on cgroup v1 (linux.resources.unified requires cgroup v2)');
  const m = r.memory;
  if (m?.swappiness !== undefined && (m.swappiness < 0 || m.swappiness > 100)) invalid(`memory.swappiness ${m.swappiness} is not in [0, 100]`);
  // The kernel keeps memory <= memory+swap (v2 converts the pair and checks it there).
  const limit = m?.limit ?? 0;
  const swap = m?.swap ?? 0;
  if (limit > 0 && swap > 0 && swap < limit) invalid(`memory.swap ${swap} (memory+swap) is below memory.limit ${limit}`);
  const c = r.cpu;
  const rtPeriod = c?.realtimePeriod ?? 0;
  const rtRuntime = c?.realtimeRuntime ?? 0;
  // A negative runtime is no limit to the kernel.
  if (rtPeriod !== 0 && rtRuntime > rtPeriod) invalid(`cpu.realtimeRuntime ${rtRuntime} exceeds cpu.realtimePeriod ${rtPeriod}`);
}

export function checkResources(version: 1 | 2, r: LinuxResources): void {
  const { memory: m, cpu: c } = r;
  for (const field of ['limit', 'swap', 'reservation', 'kernelTCP'] as const) checkLimit(`memory.${field}`, m?.[field]);
  const shares = c?.shares ?? 0;
  if (shares !== 0 && (shares < SHARES.min || shares > SHARES.max)) invalid(`cpu.shares ${shares} is not in [${SHARES.min}, ${SHARES.max}]`);
  const period = c?.period ?? 0;
  if (period !== 0 && (period < CFS_PERIOD.min || period > CFS_PERIOD.max)) invalid(`cpu.period ${period} is not in [${CFS_PERIOD.min}, ${CFS_PERIOD.max}] us`);
  const quota = c?.quota ?? 0;
  // A negative quota is no limit (v1's kernel and runc's v2 writer both read it so).
  if (quota > 0 && quota < CFS_QUOTA_MIN) invalid(`cpu.quota ${quota} is below ${CFS_QUOTA_MIN} us`);
  if (c?.idle !== undefined && c.idle !== 0 && c.idle !== 1) invalid(`cpu.idle ${c.idle} is neither 0 nor 1`);
  checkList('cpu.cpus', c?.cpus);
  checkList('cpu.mems', c?.mems);
  for (const h of r.hugepageLimits ?? []) checkPageSize(h.pageSize);
  if (version === 1) checkV1(r);
  else checkV2(r);
}
