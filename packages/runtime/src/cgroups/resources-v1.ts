// Writes LinuxResources into cgroup v1 controller files, in runc's order where the kernel
// cares about it (memory vs. memory+swap, cfs period vs. quota).
import type { LinuxBlockIO, LinuxCPU, LinuxMemory, LinuxResources, LinuxRdma } from '@tsrunc/spec-schemas';
import { applyV1Devices } from './devices.js';
import { CgroupError, fileExists, readCgroupFile, writeCgroupFile } from './files.js';
import { checkResources } from './validate.js';

type Paths = Record<string, string>;

/** The controller's directory, or a clear error naming the file that needed it. */
function controllerDir(paths: Paths, controller: string, file: string): string {
  const dir = paths[controller];
  if (dir === undefined) throw new CgroupError(`cgroup v1 controller "${controller}" is not mounted on this host (needed for ${file})`);
  return dir;
}

function write(paths: Paths, controller: string, file: string, value: string | number): void {
  writeCgroupFile(controllerDir(paths, controller, file), file, value);
}

function setMemory(paths: Paths, m: LinuxMemory): void {
  const dir = () => controllerDir(paths, 'memory', 'memory.limit_in_bytes');
  // runc treats 0 as "not set" for both limits.
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  // Lifting the memory limit without a swap value lifts memory+swap too (runc's behaviour).
  if (limit === -1 && swap === 0 && fileExists(dir(), 'memory.memsw.limit_in_bytes')) swap = -1;
  if (swap !== 0 && !fileExists(dir(), 'memory.memsw.limit_in_bytes')) {
    throw new CgroupError(`swap limit not supported: ${dir()}/memory.memsw.limit_in_bytes does not exist (swap accounting disabled?)`);
  }
  // The kernel requires memory <= memory+swap at every step, so raising both must write
  // memsw first and lowering both must write memory first.
  if (limit !== 0 && swap !== 0) {
    const current = Number(readCgroupFile(dir(), 'memory.limit_in_bytes'));
    if (swap === -1 || current < swap) {
      writeCgroupFile(dir(), 'memory.memsw.limit_in_bytes', swap);
      writeCgroupFile(dir(), 'memory.limit_in_bytes', limit);
    } else {
      writeCgroupFile(dir(), 'memory.limit_in_bytes', limit);
      writeCgroupFile(dir(), 'memory.memsw.limit_in_bytes', swap);
    }
  } else {
    if (limit !== 0) writeCgroupFile(dir(), 'memory.limit_in_bytes', limit);
    if (swap !== 0) writeCgroupFile(dir(), 'memory.memsw.limit_in_bytes', swap);
  }
  if (m.reservation !== undefined && m.reservation !== 0) write(paths, 'memory', 'memory.soft_limit_in_bytes', m.reservation);
  if (m.kernel !== undefined && m.kernel !== 0) {
    // Deprecated by the runtime spec and ignored by runc; the kernel dropped enforcement.
    process.emitWarning('linux.resources.memory.kernel is deprecated and ignored');
  }
  if (m.kernelTCP !== undefined && m.kernelTCP !== 0) write(paths, 'memory', 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP);
  if (m.swappiness !== undefined) write(paths, 'memory', 'memory.swappiness', m.swappiness);
  if (m.disableOOMKiller === true) write(paths, 'memory', 'memory.oom_control', 1);
  if (m.useHierarchy !== undefined) write(paths, 'memory', 'memory.use_hierarchy', m.useHierarchy ? 1 : 0);
}

function setCpu(paths: Paths, c: LinuxCPU): void {
  // Realtime period first: a runtime larger than the current period would be refused.
  if (c.realtimePeriod !== undefined && c.realtimePeriod !== 0) write(paths, 'cpu', 'cpu.rt_period_us', c.realtimePeriod);
  if (c.realtimeRuntime !== undefined && c.realtimeRuntime !== 0) write(paths, 'cpu', 'cpu.rt_runtime_us', c.realtimeRuntime);
  if (c.shares !== undefined && c.shares !== 0) {
    // In the kernel's range (checkResources): it would clamp any other silently.
    write(paths, 'cpu', 'cpu.shares', c.shares);
  }
  const period = c.period ?? 0;
  const quota = c.quota ?? 0;
  if (period !== 0) {
    try {
      write(paths, 'cpu', 'cpu.cfs_period_us', period);
    } catch (err) {
      // A new period can be refused because it conflicts with the old quota: set quota first.
      if ((err as CgroupError).code !== 'EINVAL' || quota === 0) throw err;
      write(paths, 'cpu', 'cpu.cfs_quota_us', quota);
      write(paths, 'cpu', 'cpu.cfs_period_us', period);
    }
  }
  if (quota !== 0) write(paths, 'cpu', 'cpu.cfs_quota_us', quota);
  if (c.burst !== undefined) write(paths, 'cpu', 'cpu.cfs_burst_us', c.burst);
  if (c.idle !== undefined) write(paths, 'cpu', 'cpu.idle', c.idle);
  if (c.cpus !== undefined && c.cpus !== '') write(paths, 'cpuset', 'cpuset.cpus', c.cpus);
  if (c.mems !== undefined && c.mems !== '') write(paths, 'cpuset', 'cpuset.mems', c.mems);
}

/**
 * The weight files of a blkio cgroup: CFQ's blkio.weight and blkio.weight_device, or on kernels
 * without CFQ (removed in 5.0) BFQ's blkio.bfq.weight and blkio.bfq.weight_device, as runc picks them.
 */
function weightFiles(dir: string): { weight: string; weightDevice: string } {
  return fileExists(dir, 'blkio.weight')
    ? { weight: 'blkio.weight', weightDevice: 'blkio.weight_device' }
    : { weight: 'blkio.bfq.weight', weightDevice: 'blkio.bfq.weight_device' };
}

function setBlkio(paths: Paths, b: LinuxBlockIO): void {
  const files = () => weightFiles(controllerDir(paths, 'blkio', 'blkio.weight'));
  if (b.weight !== undefined && b.weight !== 0) write(paths, 'blkio', files().weight, b.weight);
  if (b.leafWeight !== undefined && b.leafWeight !== 0) write(paths, 'blkio', 'blkio.leaf_weight', b.leafWeight);
  for (const d of b.weightDevice ?? []) {
    if (d.weight !== undefined && d.weight !== 0) write(paths, 'blkio', files().weightDevice, `${d.major}:${d.minor} ${d.weight}`);
    if (d.leafWeight !== undefined && d.leafWeight !== 0) write(paths, 'blkio', 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
  }
  const throttles: [string, LinuxBlockIO['throttleReadBpsDevice']][] = [
    ['blkio.throttle.read_bps_device', b.throttleReadBpsDevice],
    ['blkio.throttle.write_bps_device', b.throttleWriteBpsDevice],
    ['blkio.throttle.read_iops_device', b.throttleReadIOPSDevice],
    ['blkio.throttle.write_iops_device', b.throttleWriteIOPSDevice],
  ];
  for (const [file, devices] of throttles) {
    for (const d of devices ?? []) write(paths, 'blkio', file, `${d.major}:${d.minor} ${d.rate}`);
  }
}

/** One rdma.max line: "mlx4_0 hca_handle=2 hca_object=2000" (v1 and v2 share the format). */
export function rdmaLine(device: string, limits: LinuxRdma): string | undefined {
  const parts: string[] = [];
  if (limits.hcaHandles !== undefined) parts.push(`hca_handle=${limits.hcaHandles}`);
  if (limits.hcaObjects !== undefined) parts.push(`hca_object=${limits.hcaObjects}`);
  return parts.length === 0 ? undefined : `${device} ${parts.join(' ')}`;
}

/**
 * The pids.max value, or undefined to leave the file alone: runc reads 0 (what a client sends
 * for "not set", and what a missing limit decodes to) as no change and a negative limit as "max".
 */
export function pidsMaxValue(limit: number | undefined): string | undefined {
  if (limit === undefined || limit === 0) return undefined;
  return limit > 0 ? String(limit) : 'max';
}

export function applyV1Resources(paths: Paths, r: LinuxResources): void {
  checkResources(1, r);
  if (r.devices !== undefined && r.devices.length > 0) applyV1Devices(controllerDir(paths, 'devices', 'devices.deny'), r.devices);
  if (r.memory !== undefined) setMemory(paths, r.memory);
  if (r.cpu !== undefined) setCpu(paths, r.cpu);
  const pidsMax = pidsMaxValue(r.pids?.limit);
  if (pidsMax !== undefined) write(paths, 'pids', 'pids.max', pidsMax);
  if (r.blockIO !== undefined) setBlkio(paths, r.blockIO);
  for (const h of r.hugepageLimits ?? []) write(paths, 'hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, h.limit);
  // Class 0 is the kernel's "no class", and runc's "not set".
  if (r.network?.classID !== undefined && r.network.classID !== 0) write(paths, 'net_cls', 'net_cls.classid', r.network.classID);
  for (const p of r.network?.priorities ?? []) write(paths, 'net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
  for (const [device, limits] of Object.entries(r.rdma ?? {})) {
    const line = rdmaLine(device, limits);
    if (line !== undefined) write(paths, 'rdma', 'rdma.max', line);
  }
}
