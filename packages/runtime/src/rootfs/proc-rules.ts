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

function isProcfs(hostPath: string): boolean {
  try {
    return fs.statfsSync(hostPath).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** A proc filesystem, or a bind of one: the only mounts that may land on /proc itself. */
export function mayLandOnProc(m: MountPlan): boolean {
  return m.type === 'proc' || (m.bind && isProcfs(m.source));
}

/**
 * Checked here as config.json writes the destination; native/rootfs.c checks again where the
 * rootfs' symlinks lead it, with mayLandOnProc and LXCFS_FILES from the plan.
 */
export function checkProcDestination(m: MountPlan): void {
  if (m.destination === '/proc') {
    if (mayLandOnProc(m)) return;
    throw new Error(`mount on ${m.destination}: only a proc filesystem may be mounted on /proc`);
  }
  if (m.destination.startsWith('/proc/') && !LXCFS_FILES.has(m.destination)) {
    throw new Error(`mount on ${m.destination}: a destination inside /proc is refused`);
  }
}
