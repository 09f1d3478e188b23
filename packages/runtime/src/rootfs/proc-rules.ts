// Which mounts may land in /proc, with runc's rules: the runtime writes settings through /proc
// (oom_score_adj, sysctls, attributes), so a file bound over one of them would take the write in
// its place, on the host if the file is the host's. Only a proc filesystem goes on /proc itself,
// and below it only the files that lxcfs emulates.
import fs from 'node:fs';
import type { MountPlan } from './plan.js';

const PROC_SUPER_MAGIC = 0x9fa0;

/** What lxcfs binds over /proc, the one legitimate reason to mount below it. */
export const LXCFS_FILES = new Set([
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/proc/loadavg', '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid',
]);

export function isProcfs(hostPath: string): boolean {
  try {
    return fs.statfsSync(hostPath).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/**
 * `resolved` is where the mount lands in the container: its destination, or (in the init stage)
 * that destination with the rootfs' symlinks followed inside the rootfs.
 */
export function checkProcDestination(m: MountPlan, resolved: string): void {
  const via = resolved === m.destination ? '' : ` (through a symlink in the rootfs, at ${resolved})`;
  if (resolved === '/proc') {
    if (m.type === 'proc' || (m.bind && isProcfs(m.source))) return;
    throw new Error(`mount on ${m.destination}${via}: only a proc filesystem may be mounted on /proc`);
  }
  if (resolved.startsWith('/proc/') && !LXCFS_FILES.has(resolved)) {
    throw new Error(`mount on ${m.destination}${via}: a destination inside /proc is refused`);
  }
}
