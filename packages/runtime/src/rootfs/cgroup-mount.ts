// A "cgroup" mount of config.json: the container sees its own cgroups, as runc shows them, never
// the host's tree (other containers' cgroups, release_agent). On a cgroup v2 host, or for a
// "cgroup2" mount, it is the unified hierarchy; on v1 it is a tmpfs holding one directory per v1
// hierarchy of the host, named as on the host (runc leaves a hybrid host's cgroup2 out, and so do we).
// In a cgroup namespace of its own each is a new cgroup filesystem, whose root the kernel shows
// as the namespace's, the container's cgroup. Without one a new filesystem would show the
// hierarchy's root, so the container's own cgroup directory is bound there instead.
import fs from 'node:fs';
import { mountedCgroupDir } from '../cgroups/paths.js';
import { ownCgroups } from '../cgroups/mode.js';
import { parseMountinfo } from '../sys/mountinfo.js';
import { MS, mount, remountBind } from '../sys/mount.js';
import { mkdirAllInRoot, procFdPath } from '../sys/openat2.js';
import type { MountPlan } from './plan.js';

const HOST_CGROUP_ROOT = '/sys/fs/cgroup';

/** Superblock options that do not name a hierarchy's controllers. */
const NOT_CONTROLLERS = new Set(['rw', 'ro', 'clone_children', 'xattr', 'noprefix', 'cpuset_v2_mode', 'favordynmods']);

interface Hierarchy {
  /** Directory under /sys/fs/cgroup: "cpu,cpuacct", "memory", "systemd"; "" for the v2 root. */
  name: string;
  fstype: 'cgroup' | 'cgroup2';
  /** The controllers, as mount data and as /proc/self/cgroup names them ("cpu,cpuacct", "name=systemd"). */
  controllers: string;
  /** The host's mount of the hierarchy: where it is and which cgroup is its root. */
  mountpoint: string;
  root: string;
}

function hostHierarchies(): Hierarchy[] {
  const result: Hierarchy[] = [];
  for (const m of parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))) {
    if (m.fstype !== 'cgroup' && m.fstype !== 'cgroup2') continue;
    if (m.mountpoint !== HOST_CGROUP_ROOT && !m.mountpoint.startsWith(`${HOST_CGROUP_ROOT}/`)) continue;
    const name = m.mountpoint.slice(HOST_CGROUP_ROOT.length + 1);
    if (name.includes('/')) continue;
    const controllers = m.superOptions.filter((o) => !NOT_CONTROLLERS.has(o) && !o.startsWith('release_agent=')).join(',');
    result.push({ name, fstype: m.fstype, controllers, mountpoint: m.mountpoint, root: m.root });
  }
  return result;
}

/**
 * The host directory of the container's cgroup in `h`. The init stage was placed in the cgroup
 * before it entered any namespace, so /proc/self/cgroup names it; "" is v2's entry.
 */
function ownDir(h: Hierarchy, own: Record<string, string>): string {
  const key = h.fstype === 'cgroup2' ? '' : h.controllers.split(',')[0] ?? '';
  const cgroupPath = own[key];
  if (cgroupPath === undefined) throw new Error(`cgroup mount: this process has no cgroup in the ${h.controllers || 'unified'} hierarchy`);
  return mountedCgroupDir({ mountpoint: h.mountpoint, root: h.root }, cgroupPath);
}

/**
 * One hierarchy on `destination`: a new filesystem in a cgroup namespace of the container's own,
 * else (`own`: the process' cgroups) the container's cgroup directory bound.
 */
function mountHierarchy(rootFd: number, h: Hierarchy, destination: string, flags: number, own: Record<string, string> | undefined): void {
  const dir = mkdirAllInRoot(rootFd, destination);
  try {
    if (own === undefined) {
      mount(h.fstype, procFdPath(dir), h.fstype, flags, h.fstype === 'cgroup' ? h.controllers : '', `mount ${h.fstype} ${h.name || 'cgroup2'} on ${destination}`);
      return;
    }
    const source = ownDir(h, own);
    mount(source, procFdPath(dir), '', MS.BIND | MS.REC, '', `bind ${source} on ${destination}`);
  } finally {
    fs.closeSync(dir);
  }
  // The fd named the directory under the new mount: the flags go on through a fresh one.
  const bound = mkdirAllInRoot(rootFd, destination);
  try {
    remountBind(procFdPath(bound), flags);
  } finally {
    fs.closeSync(bound);
  }
}

/** "cpu,cpuacct" gets the symlinks "cpu" and "cpuacct" next to it, as on the host. */
function linkCoMountedControllers(rootFd: number, destination: string, name: string): void {
  if (!name.includes(',')) return;
  const dir = mkdirAllInRoot(rootFd, destination);
  try {
    for (const controller of name.split(',')) {
      try {
        fs.symlinkSync(name, `${procFdPath(dir)}/${controller}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  } finally {
    fs.closeSync(dir);
  }
}

export function mountCgroups(rootFd: number, m: MountPlan, cgroupNamespace: boolean): void {
  const hierarchies = hostHierarchies();
  const own = cgroupNamespace ? undefined : ownCgroups();
  const flags = (m.flags | MS.NOSUID | MS.NODEV | MS.NOEXEC) & ~(MS.BIND | MS.REC);
  // A v2 host's only hierarchy, or a hybrid host's cgroup2 when the mount asks for it by type.
  const unified = hierarchies.find((h) => h.fstype === 'cgroup2' && (h.name === '' || m.type === 'cgroup2'));
  if (unified !== undefined) {
    mountHierarchy(rootFd, unified, m.destination, flags, own);
    return;
  }
  if (m.type === 'cgroup2') throw new Error(`mount cgroup2 on ${m.destination}: this host has no cgroup2 hierarchy under ${HOST_CGROUP_ROOT}`);
  const top = mkdirAllInRoot(rootFd, m.destination);
  try {
    mount('tmpfs', procFdPath(top), 'tmpfs', flags & ~MS.RDONLY, 'mode=755', `mount tmpfs on ${m.destination}`);
  } finally {
    fs.closeSync(top);
  }
  for (const h of hierarchies) {
    if (h.fstype !== 'cgroup' || h.name === '') continue;
    mountHierarchy(rootFd, h, `${m.destination}/${h.name}`, flags, own);
    linkCoMountedControllers(rootFd, m.destination, h.name);
  }
  if (flags & MS.RDONLY) {
    const again = mkdirAllInRoot(rootFd, m.destination);
    try {
      remountBind(procFdPath(again), MS.RDONLY);
    } finally {
      fs.closeSync(again);
    }
  }
}
