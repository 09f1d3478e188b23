// A "cgroup" mount of config.json: the container sees its own cgroups, as runc shows them, never
// the host's tree (other containers' cgroups, release_agent). On a cgroup v2 host, or for a
// "cgroup2" mount, it is the unified hierarchy; on v1 it is a tmpfs holding one directory per v1
// hierarchy of the host, named as on the host (runc leaves a hybrid host's cgroup2 out, and so do we).
// In a cgroup namespace of its own each is a new cgroup filesystem, whose root the kernel shows
// as the namespace's, the container's cgroup. Without one a new filesystem would show the
// hierarchy's root, so the container's own cgroup directory is bound there instead.
// Decided here, on the host side, from the host's mount table and the init's cgroups; the native
// rootfs executor makes the steps.
import fs from 'node:fs';
import { mountedCgroupDir } from '../cgroups/paths.js';
import { ownCgroups } from '../cgroups/mode.js';
import { parseMountinfo } from '../sys/mountinfo.js';
import { MS } from '../sys/mount.js';
import type { MountPlan } from './plan.js';

const HOST_CGROUP_ROOT = '/sys/fs/cgroup';

/** Superblock options that do not name a hierarchy's controllers. */
const NOT_CONTROLLERS = new Set(['rw', 'ro', 'clone_children', 'xattr', 'noprefix', 'cpuset_v2_mode', 'favordynmods']);

export interface Hierarchy {
  /** Directory under /sys/fs/cgroup: "cpu,cpuacct", "memory", "systemd"; "" for the v2 root. */
  name: string;
  fstype: 'cgroup' | 'cgroup2';
  /** The controllers, as mount data and as /proc/self/cgroup names them ("cpu,cpuacct", "name=systemd"). */
  controllers: string;
  /** The host's mount of the hierarchy: where it is and which cgroup is its root. */
  mountpoint: string;
  root: string;
}

/** What a cgroup mount shows, as the host has it: its hierarchies, and the init's cgroups in them. */
export interface CgroupView {
  hierarchies: Hierarchy[];
  /** The init's cgroup per controller ("" for v2), as /proc/PID/cgroup names them. */
  own: Record<string, string>;
}

export function hostHierarchies(mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): Hierarchy[] {
  const result: Hierarchy[] = [];
  for (const m of parseMountinfo(mountinfo)) {
    if (m.fstype !== 'cgroup' && m.fstype !== 'cgroup2') continue;
    if (m.mountpoint !== HOST_CGROUP_ROOT && !m.mountpoint.startsWith(`${HOST_CGROUP_ROOT}/`)) continue;
    const name = m.mountpoint.slice(HOST_CGROUP_ROOT.length + 1);
    if (name.includes('/')) continue;
    const controllers = m.superOptions.filter((o) => !NOT_CONTROLLERS.has(o) && !o.startsWith('release_agent=')).join(',');
    result.push({ name, fstype: m.fstype, controllers, mountpoint: m.mountpoint, root: m.root });
  }
  return result;
}

/** The view for the init `pid`, placed in its cgroups already. */
export function cgroupView(pid: number): CgroupView {
  return { hierarchies: hostHierarchies(), own: ownCgroups(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')) };
}

/** A step of a cgroup mount, for the rootfs executor. */
export type CgroupStep =
  | { step: 'mount'; mount: MountPlan }
  | { step: 'remount'; destination: string; flags: number }
  | { step: 'symlink'; target: string; path: string };

/** The host directory of the container's cgroup in `h`; "" is v2's entry. */
function ownDir(h: Hierarchy, own: Record<string, string>): string {
  const key = h.fstype === 'cgroup2' ? '' : h.controllers.split(',')[0] ?? '';
  const cgroupPath = own[key];
  if (cgroupPath === undefined) throw new Error(`cgroup mount: the container has no cgroup in the ${h.controllers || 'unified'} hierarchy`);
  return mountedCgroupDir({ mountpoint: h.mountpoint, root: h.root }, cgroupPath);
}

const noOptions = { data: '', propagation: [], attrSet: 0, attrClear: 0, copyUp: false };

/**
 * One hierarchy on `destination`: a new filesystem in a cgroup namespace of the container's own,
 * else the container's cgroup directory bound; then the flags, through a bind remount.
 */
function hierarchySteps(h: Hierarchy, destination: string, flags: number, own: Record<string, string> | undefined): CgroupStep[] {
  const mount: MountPlan = own === undefined
    ? { ...noOptions, source: h.fstype, destination, type: h.fstype, bind: false, flags, data: h.fstype === 'cgroup' ? h.controllers : '' }
    : { ...noOptions, source: ownDir(h, own), destination, type: '', bind: true, flags: MS.BIND | MS.REC };
  return [{ step: 'mount', mount }, { step: 'remount', destination, flags }];
}

export function cgroupMountSteps(m: MountPlan, cgroupNamespace: boolean, view: CgroupView): CgroupStep[] {
  const own = cgroupNamespace ? undefined : view.own;
  const flags = (m.flags | MS.NOSUID | MS.NODEV | MS.NOEXEC) & ~(MS.BIND | MS.REC);
  // A v2 host's only hierarchy, or a hybrid host's cgroup2 when the mount asks for it by type.
  const unified = view.hierarchies.find((h) => h.fstype === 'cgroup2' && (h.name === '' || m.type === 'cgroup2'));
  if (unified !== undefined) return hierarchySteps(unified, m.destination, flags, own);
  if (m.type === 'cgroup2') throw new Error(`mount cgroup2 on ${m.destination}: this host has no cgroup2 hierarchy under ${HOST_CGROUP_ROOT}`);
  const steps: CgroupStep[] = [{
    step: 'mount',
    mount: { ...noOptions, source: 'tmpfs', destination: m.destination, type: 'tmpfs', bind: false, flags: flags & ~MS.RDONLY, data: 'mode=755' },
  }];
  for (const h of view.hierarchies) {
    if (h.fstype !== 'cgroup' || h.name === '') continue;
    steps.push(...hierarchySteps(h, `${m.destination}/${h.name}`, flags, own));
    // "cpu,cpuacct" gets the symlinks "cpu" and "cpuacct" next to it, as on the host.
    if (h.name.includes(',')) {
      for (const controller of h.name.split(',')) steps.push({ step: 'symlink', target: h.name, path: `${m.destination}/${controller}` });
    }
  }
  if (flags & MS.RDONLY) steps.push({ step: 'remount', destination: m.destination, flags: MS.RDONLY });
  return steps;
}
