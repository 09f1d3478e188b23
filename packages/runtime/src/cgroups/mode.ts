// Finds out which cgroup layout the host uses by reading /proc/self/mountinfo:
// pure v2 when /sys/fs/cgroup itself is cgroup2, otherwise v1 (possibly hybrid, with a
// cgroup2 tree mounted next to the v1 controllers, which we only record).
import * as fs from 'node:fs';
import { parseMountinfo } from '../sys/mountinfo.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** A mounted v1 hierarchy: where it is mounted and which cgroup path is its root. */
export interface V1Mount {
  mountpoint: string;
  root: string;
}

export interface CgroupMode {
  version: 1 | 2;
  /** v2: the unified root (/sys/fs/cgroup); hybrid v1: the extra cgroup2 mount, if any. */
  unifiedRoot?: string;
  /** v1 only: controller (or "name=xxx" for named hierarchies) -> mount. */
  v1Mounts: Record<string, V1Mount>;
  /** Hybrid v1 only: the cgroup2 mount beside the v1 hierarchies (no controllers, processes only). */
  hybrid?: V1Mount;
}

/** Super options of a v1 cgroup mount that are not controller names. */
const NON_CONTROLLER_OPTIONS = new Set(['rw', 'ro', 'xattr', 'noprefix', 'clone_children', 'cpuset_v2_mode', 'favordynmods']);

export function detectCgroupMode(mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): CgroupMode {
  const mounts = parseMountinfo(mountinfo);
  const v1Mounts: Record<string, V1Mount> = {};
  let hybrid: V1Mount | undefined;
  for (const m of mounts) {
    if (m.fstype === 'cgroup2') {
      if (m.mountpoint === CGROUP_ROOT) return { version: 2, unifiedRoot: CGROUP_ROOT, v1Mounts: {} };
      hybrid ??= { mountpoint: m.mountpoint, root: m.root };
    } else if (m.fstype === 'cgroup') {
      for (const opt of m.superOptions) {
        if (NON_CONTROLLER_OPTIONS.has(opt) || opt.startsWith('release_agent=')) continue;
        // The first mount of a hierarchy wins; later ones are usually bind mounts inside containers.
        v1Mounts[opt] ??= { mountpoint: m.mountpoint, root: m.root };
      }
    }
  }
  return hybrid === undefined ? { version: 1, v1Mounts } : { version: 1, unifiedRoot: hybrid.mountpoint, v1Mounts, hybrid };
}

/**
 * The caller's own cgroup per controller from /proc/self/cgroup ("" is the v2 entry).
 * Lines look like "4:memory:/a/b", "1:cpu,cpuacct:/" or "0::/user.slice".
 */
export function ownCgroups(text = fs.readFileSync('/proc/self/cgroup', 'utf8')): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const path = line.slice(second + 1);
    for (const controller of line.slice(first + 1, second).split(',')) out[controller] = path;
  }
  return out;
}
