// The mounts of config.json, made below the rootfs before pivot_root. Every destination is
// opened with openat2(RESOLVE_IN_ROOT) and mounted on through /proc/self/fd, so that a symlink in
// the rootfs cannot point a mount at the host (CVE-2024-21626 and its relatives).
import fs from 'node:fs';
import { MS, mount, setMountAttrRecursive, remountBind } from '../sys/mount.js';
import { createFileInRoot, mkdirAllInRoot, O, openInRoot, procFdPath } from '../sys/openat2.js';
import type { SysError } from '../sys/libc.js';
import { mountCgroups } from './cgroup-mount.js';
import { copyTree } from './copy-up.js';
import { checkMountDestination } from './destination.js';
import { readonlyLast, type MountPlan } from './plan.js';

/** The flags that a bind mount only takes on a remount. */
export const REMOUNT_ONLY = ~(MS.BIND | MS.REC | MS.REMOUNT);

function destinationFd(rootFd: number, m: MountPlan, sourceFd: number | undefined): number {
  if (m.bind) {
    let sourceIsDir: boolean;
    try {
      sourceIsDir = (sourceFd === undefined ? fs.statSync(m.source) : fs.fstatSync(sourceFd)).isDirectory();
    } catch {
      throw new Error(`mount ${m.destination}: bind source ${m.source} does not exist`);
    }
    return sourceIsDir ? mkdirAllInRoot(rootFd, m.destination) : createFileInRoot(rootFd, m.destination);
  }
  return mkdirAllInRoot(rootFd, m.destination);
}

/** Remounts what is now mounted at the destination: the fd used to mount names the directory under it. */
function remountDestination(rootFd: number, m: MountPlan, flags: number): void {
  const fd = openInRoot(rootFd, m.destination, O.PATH);
  try {
    remountBind(procFdPath(fd), flags);
  } finally {
    fs.closeSync(fd);
  }
}

/** `sourceFd`: the source opened by tsrunc (container/mount-sources.ts), bound through /proc/self/fd as runc binds its. */
function bindMount(rootFd: number, m: MountPlan, target: string, sourceFd: number | undefined): void {
  const source = sourceFd === undefined ? m.source : procFdPath(sourceFd);
  mount(source, target, '', MS.BIND | (m.flags & MS.REC), '', `bind mount ${m.source} on ${m.destination}`);
  if (m.flags & REMOUNT_ONLY) remountDestination(rootFd, m, m.flags & REMOUNT_ONLY);
}

/** The mode of the image's directory at `destination`, if the image has one. */
function existingDirMode(rootFd: number, destination: string): number | undefined {
  let fd: number;
  try {
    fd = openInRoot(rootFd, destination, O.PATH | O.DIRECTORY);
  } catch {
    return undefined;
  }
  try {
    return fs.fstatSync(fd).mode & 0o7777;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A tmpfs as runc makes one: on a directory the image has, it takes that directory's mode (and,
 * with "tmpcopyup", its content); it is made read-only at the end (readonlyLast), if it is to be.
 * `fd` names the destination directory, and still names the image's one once the tmpfs covers it.
 */
function tmpfsMount(rootFd: number, m: MountPlan, fd: number, imageMode: number | undefined): void {
  mount(m.source, procFdPath(fd), 'tmpfs', m.flags & ~MS.RDONLY, m.data, `mount tmpfs on ${m.destination}`);
  const tmpfs = openInRoot(rootFd, m.destination, O.DIRECTORY | O.RDONLY);
  try {
    if (m.copyUp) copyTree(fd, tmpfs, m.destination);
    if (imageMode !== undefined) fs.fchmodSync(tmpfs, imageMode);
  } finally {
    fs.closeSync(tmpfs);
  }
}

function filesystemMount(rootFd: number, m: MountPlan, fd: number): void {
  const target = procFdPath(fd);
  try {
    mount(m.source, target, m.type, readonlyLast(m) ? m.flags & ~MS.RDONLY : m.flags, m.data, `mount ${m.type} on ${m.destination}`);
  } catch (err) {
    // sysfs cannot be mounted in a user namespace that does not own the network namespace:
    // runc binds the host's /sys read-only instead, and so do we.
    if (m.type !== 'sysfs' || (err as SysError).code !== 'EPERM') throw err;
    mount('/sys', target, '', MS.BIND | MS.REC, '', `bind /sys on ${m.destination}`);
    remountDestination(rootFd, m, MS.RDONLY | (m.flags & REMOUNT_ONLY));
  }
}

/**
 * `cgroupNamespace`: the container has a cgroup namespace of its own (see cgroup-mount.ts);
 * `sourceFd`: a bind mount's source as tsrunc opened it, else it is reached by its path.
 */
export function mountOne(rootFd: number, m: MountPlan, cgroupNamespace: boolean, sourceFd?: number): void {
  checkMountDestination(rootFd, m);
  const imageMode = !m.bind && m.type === 'tmpfs' ? existingDirMode(rootFd, m.destination) : undefined;
  const fd = destinationFd(rootFd, m, sourceFd);
  try {
    const target = procFdPath(fd);
    if (m.bind) bindMount(rootFd, m, target, sourceFd);
    else if (m.type === 'cgroup' || m.type === 'cgroup2') mountCgroups(rootFd, m, cgroupNamespace);
    else if (m.type === 'tmpfs') tmpfsMount(rootFd, m, fd, imageMode);
    else filesystemMount(rootFd, m, fd);
  } finally {
    fs.closeSync(fd);
  }
  // The fd named the directory under the new mount: what follows goes through a fresh one.
  if (m.propagation.length > 0 || m.attrSet || m.attrClear) {
    const mounted = openInRoot(rootFd, m.destination, O.PATH);
    try {
      for (const flag of m.propagation) mount('', procFdPath(mounted), '', flag, '', `set propagation of ${m.destination}`);
      if (m.attrSet || m.attrClear) setMountAttrRecursive(mounted, m.attrSet, m.attrClear, m.destination);
    } finally {
      fs.closeSync(mounted);
    }
  }
}
