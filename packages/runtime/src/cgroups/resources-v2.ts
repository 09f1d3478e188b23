// Writes LinuxResources into a cgroup v2 directory, converting v1-style spec values the
// way runc does (shares -> cpu.weight, blkio weight -> io.weight, memory+swap -> swap).
import type { LinuxBlockIO, LinuxCPU, LinuxMemory, LinuxResources } from '@tsrunc/spec-schemas';
import { applyV2Devices } from './devices.js';
import { CgroupError, fileExists, readOptional, writeCgroupFile } from './files.js';
import { pidsMaxValue, rdmaLine } from './resources-v1.js';
import { checkResources } from './validate.js';

/** A missing v2 file almost always means the controller is not enabled in the parent. */
function write(dir: string, file: string, value: string | number): void {
  if (!fileExists(dir, file)) {
    const controller = file.split('.')[0] ?? file;
    throw new CgroupError(`cgroup v2 file ${dir}/${file} does not exist: the "${controller}" controller is not available (not in the parent's cgroup.subtree_control)`);
  }
  writeCgroupFile(dir, file, value);
}

/** Spec value -> v2 file value: -1 is "max". */
function limitValue(n: number): string {
  return n < 0 ? 'max' : String(n);
}

/** runc's ConvertMemorySwapToCgroupV2Value: the spec's swap is memory+swap, v2 wants swap alone. */
export function swapV2Value(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (memory === 0 || memory === -1) throw new CgroupError('unable to set swap limit without memory limit');
  if (memory < 0) throw new CgroupError(`invalid memory value: ${memory}`);
  if (swap < memory) throw new CgroupError('memory+swap limit should be >= memory limit');
  return swap - memory;
}

function setMemory(dir: string, m: LinuxMemory): void {
  const limit = m.limit ?? 0;
  const swap = swapV2Value(m.swap ?? 0, limit);
  // Swap before memory, as runc does, so a lowered memory limit never meets an old swap cap.
  if (swap !== 0) {
    if (!fileExists(dir, 'memory.swap.max')) throw new CgroupError(`swap limit not supported: ${dir}/memory.swap.max does not exist`);
    write(dir, 'memory.swap.max', limitValue(swap));
  }
  if (limit !== 0) write(dir, 'memory.max', limitValue(limit));
  if (m.reservation !== undefined && m.reservation !== 0) write(dir, 'memory.low', limitValue(m.reservation));
  if (m.kernel !== undefined && m.kernel !== 0) process.emitWarning('linux.resources.memory.kernel is deprecated and ignored');
}

/** runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] -> [1, 10000]. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

function setCpu(dir: string, c: LinuxCPU): void {
  if (c.shares !== undefined && c.shares !== 0) write(dir, 'cpu.weight', sharesToWeight(c.shares));
  // Both 0 (or missing) is "not set" for runc: an old cpu.max stays as it is.
  if ((c.quota ?? 0) !== 0 || (c.period ?? 0) !== 0) {
    // cpu.max holds both values; keep the current one of whichever the spec leaves out.
    const [curQuota = 'max', curPeriod = '100000'] = (readOptional(dir, 'cpu.max') ?? '').split(' ');
    const quota = c.quota === undefined ? curQuota : c.quota > 0 ? String(c.quota) : 'max';
    const period = c.period === undefined || c.period === 0 ? curPeriod : String(c.period);
    write(dir, 'cpu.max', `${quota} ${period}`);
  }
  if (c.burst !== undefined) write(dir, 'cpu.max.burst', c.burst);
  if (c.idle !== undefined) write(dir, 'cpu.idle', c.idle);
  if (c.cpus !== undefined && c.cpus !== '') write(dir, 'cpuset.cpus', c.cpus);
  if (c.mems !== undefined && c.mems !== '') write(dir, 'cpuset.mems', c.mems);
}

/** runc's ConvertBlkIOToIOWeightValue: [10, 1000] -> [1, 10000]. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

function setIo(dir: string, b: LinuxBlockIO): void {
  if (b.weight !== undefined && b.weight !== 0) {
    // BFQ takes the v1 range unchanged; the generic io.weight wants the converted one.
    if (fileExists(dir, 'io.bfq.weight')) write(dir, 'io.bfq.weight', b.weight);
    else write(dir, 'io.weight', blkioWeightToIoWeight(b.weight));
  }
  for (const d of b.weightDevice ?? []) {
    if (d.weight !== undefined && d.weight !== 0) write(dir, 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`);
  }
  const throttles: [string, LinuxBlockIO['throttleReadBpsDevice']][] = [
    ['rbps', b.throttleReadBpsDevice],
    ['wbps', b.throttleWriteBpsDevice],
    ['riops', b.throttleReadIOPSDevice],
    ['wiops', b.throttleWriteIOPSDevice],
  ];
  for (const [key, devices] of throttles) {
    // io.max accepts one key per write and keeps the device's other keys.
    for (const d of devices ?? []) write(dir, 'io.max', `${d.major}:${d.minor} ${key}=${d.rate === 0 ? 'max' : d.rate}`);
  }
}

export function applyV2Resources(dir: string, r: LinuxResources): void {
  checkResources(2, r);
  if (r.devices !== undefined) applyV2Devices(dir, r.devices);
  if (r.memory !== undefined) setMemory(dir, r.memory);
  if (r.cpu !== undefined) setCpu(dir, r.cpu);
  const pidsMax = pidsMaxValue(r.pids?.limit);
  if (pidsMax !== undefined) write(dir, 'pids.max', pidsMax);
  if (r.blockIO !== undefined) setIo(dir, r.blockIO);
  for (const h of r.hugepageLimits ?? []) write(dir, `hugetlb.${h.pageSize}.max`, h.limit);
  for (const [device, limits] of Object.entries(r.rdma ?? {})) {
    const line = rdmaLine(device, limits);
    if (line !== undefined) write(dir, 'rdma.max', line);
  }
  // Last, so explicit unified values override the converted ones (runc does the same).
  for (const [key, value] of Object.entries(r.unified ?? {})) write(dir, key, value);
}
