// Reads usage counters into runc's Stats shape. Controllers that are absent read as zero:
// `events --stats` must work for whatever the host offers.
import * as fs from 'node:fs';
import { parseCgroupNumber, parseFlatKeyed, readOptional, UNLIMITED } from './files.js';
import type { BlkioEntry, CgroupStats } from './types.js';

/** USER_HZ, the unit of cpuacct.stat; it is 100 on every Linux architecture runc supports. */
const NS_PER_USER_HZ = 1e9 / 100;

function num(dir: string | undefined, file: string): number {
  if (dir === undefined) return 0;
  const text = readOptional(dir, file);
  return text === undefined || text === '' ? 0 : parseCgroupNumber(text);
}

/** Sizes of the hugetlb.<size>.<suffix> files in a directory, e.g. ["2MB", "1GB"]. */
function hugepageSizes(dir: string, suffix: string): string[] {
  const pattern = new RegExp(`^hugetlb\\.([^.]+)\\.${suffix.replace('.', '\\.')}$`);
  return fs.readdirSync(dir).flatMap((name) => {
    const size = pattern.exec(name)?.[1];
    return size === undefined ? [] : [size];
  });
}

/** v1 blkio lines: "8:0 Read 4096" (plus a "Total N" line that has no device). */
function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3] ?? '', value: Number(m[4]) });
  }
  return out;
}

export function statsV1(paths: Record<string, string>): CgroupStats {
  const cpuacct = paths['cpuacct'];
  const cpu = paths['cpu'];
  const memory = paths['memory'];
  const pids = paths['pids'];
  const blkio = paths['blkio'];
  const hugetlb = paths['hugetlb'];

  const percpuText = cpuacct === undefined ? undefined : readOptional(cpuacct, 'cpuacct.usage_percpu');
  // cpuacct.usage_user/sys are in ns; older kernels only have cpuacct.stat in clock ticks.
  let kernel = num(cpuacct, 'cpuacct.usage_sys');
  let user = num(cpuacct, 'cpuacct.usage_user');
  if (cpuacct !== undefined && readOptional(cpuacct, 'cpuacct.usage_user') === undefined) {
    const ticks = parseFlatKeyed(readOptional(cpuacct, 'cpuacct.stat'));
    kernel = (ticks['system'] ?? 0) * NS_PER_USER_HZ;
    user = (ticks['user'] ?? 0) * NS_PER_USER_HZ;
  }
  const throttle = parseFlatKeyed(cpu === undefined ? undefined : readOptional(cpu, 'cpu.stat'));

  const stats: CgroupStats = {
    cpu: {
      usage: { total: num(cpuacct, 'cpuacct.usage'), kernel, user },
      throttling: { periods: throttle['nr_periods'] ?? 0, throttledPeriods: throttle['nr_throttled'] ?? 0, throttledTime: throttle['throttled_time'] ?? 0 },
    },
    memory: {
      usage: {
        limit: num(memory, 'memory.limit_in_bytes'),
        usage: num(memory, 'memory.usage_in_bytes'),
        max: num(memory, 'memory.max_usage_in_bytes'),
        failcnt: num(memory, 'memory.failcnt'),
      },
    },
    pids: { current: num(pids, 'pids.current'), limit: pids === undefined ? 0 : num(pids, 'pids.max') },
  };
  if (percpuText !== undefined) stats.cpu.usage.percpu = percpuText.split(/\s+/).filter((s) => s !== '').map(Number);
  if (memory !== undefined) {
    if (readOptional(memory, 'memory.memsw.limit_in_bytes') !== undefined) {
      stats.memory.swap = {
        limit: num(memory, 'memory.memsw.limit_in_bytes'),
        usage: num(memory, 'memory.memsw.usage_in_bytes'),
        max: num(memory, 'memory.memsw.max_usage_in_bytes'),
        failcnt: num(memory, 'memory.memsw.failcnt'),
      };
    }
    stats.memory.raw = parseFlatKeyed(readOptional(memory, 'memory.stat'));
  }
  if (blkio !== undefined) {
    stats.blkio = {
      ioServiceBytesRecursive: parseBlkioV1(readOptional(blkio, 'blkio.throttle.io_service_bytes_recursive')),
      ioServicedRecursive: parseBlkioV1(readOptional(blkio, 'blkio.throttle.io_serviced_recursive')),
    };
  }
  if (hugetlb !== undefined) {
    stats.hugetlb = {};
    for (const size of hugepageSizes(hugetlb, 'limit_in_bytes')) {
      stats.hugetlb[size] = {
        usage: num(hugetlb, `hugetlb.${size}.usage_in_bytes`),
        max: num(hugetlb, `hugetlb.${size}.max_usage_in_bytes`),
        failcnt: num(hugetlb, `hugetlb.${size}.failcnt`),
      };
    }
  }
  return stats;
}

/** v2 io.stat lines: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
function parseIoStat(text: string | undefined): NonNullable<CgroupStats['blkio']> {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(device ?? '');
    if (!m) continue;
    const major = Number(m[1]);
    const minor = Number(m[2]);
    const values: Record<string, number> = Object.fromEntries(pairs.map((p) => p.split('=')).map(([k, v]) => [k ?? '', Number(v)]));
    bytes.push({ major, minor, op: 'Read', value: values['rbytes'] ?? 0 }, { major, minor, op: 'Write', value: values['wbytes'] ?? 0 });
    ios.push({ major, minor, op: 'Read', value: values['rios'] ?? 0 }, { major, minor, op: 'Write', value: values['wios'] ?? 0 });
  }
  return { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
}

export function statsV2(dir: string): CgroupStats {
  const cpu = parseFlatKeyed(readOptional(dir, 'cpu.stat'));
  const memEvents = parseFlatKeyed(readOptional(dir, 'memory.events'));
  const hasMemory = readOptional(dir, 'memory.current') !== undefined;
  const stats: CgroupStats = {
    cpu: {
      // cpu.stat is in microseconds; runc's Stats are in nanoseconds.
      usage: { total: (cpu['usage_usec'] ?? 0) * 1000, kernel: (cpu['system_usec'] ?? 0) * 1000, user: (cpu['user_usec'] ?? 0) * 1000 },
      throttling: { periods: cpu['nr_periods'] ?? 0, throttledPeriods: cpu['nr_throttled'] ?? 0, throttledTime: (cpu['throttled_usec'] ?? 0) * 1000 },
    },
    memory: {
      usage: {
        limit: hasMemory ? num(dir, 'memory.max') : 0,
        usage: num(dir, 'memory.current'),
        max: num(dir, 'memory.peak'),
        failcnt: memEvents['max'] ?? 0,
      },
    },
    pids: { current: num(dir, 'pids.current'), limit: readOptional(dir, 'pids.max') === undefined ? 0 : num(dir, 'pids.max') },
  };
  if (hasMemory) {
    stats.memory.raw = parseFlatKeyed(readOptional(dir, 'memory.stat'));
    const swapMax = readOptional(dir, 'memory.swap.max');
    if (swapMax !== undefined) {
      // Like runc, report swap as memory+swap so the numbers compare with v1's memsw.
      const memMax = stats.memory.usage.limit;
      const swapLimit = parseCgroupNumber(swapMax);
      stats.memory.swap = {
        limit: swapLimit === UNLIMITED || memMax === UNLIMITED ? UNLIMITED : swapLimit + memMax,
        usage: num(dir, 'memory.swap.current') + stats.memory.usage.usage,
        max: num(dir, 'memory.swap.peak'),
        failcnt: parseFlatKeyed(readOptional(dir, 'memory.swap.events'))['max'] ?? 0,
      };
    }
  }
  const ioStat = readOptional(dir, 'io.stat');
  if (ioStat !== undefined) stats.blkio = parseIoStat(ioStat);
  const sizes = hugepageSizes(dir, 'max');
  if (sizes.length > 0) {
    stats.hugetlb = {};
    for (const size of sizes) {
      stats.hugetlb[size] = {
        usage: num(dir, `hugetlb.${size}.current`),
        max: num(dir, `hugetlb.${size}.max`),
        failcnt: parseFlatKeyed(readOptional(dir, `hugetlb.${size}.events`))['max'] ?? 0,
      };
    }
  }
  return stats;
}
