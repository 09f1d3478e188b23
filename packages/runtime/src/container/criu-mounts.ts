// The container's mounts that come from outside it, which criu cannot dump and must be told
// about, as runc tells it: bind mounts of config.json, the cgroup directories bound when the
// container has no cgroup namespace, masked files (bound from /dev/null) and device nodes. Each
// is named by a cookie on dump (`--external mnt[MOUNTPOINT]:COOKIE`) that restore maps to the
// host path to bind there (`--external mnt[COOKIE]:SOURCE`), so that a restore binds the bundle's
// sources of the day and the new container's own cgroup.
import fs from 'node:fs';
import type { CgroupRecord } from '../cgroups/index.js';
import type { RootfsPlan } from '../rootfs/plan.js';
import { MNT_DETACH, MS, mount, umount } from '../sys/mount.js';
import { parseMountinfo } from '../sys/mountinfo.js';
import { createFileInRoot, mkdirAllInRoot, O, openInRoot, procFdPath } from '../sys/openat2.js';

/** A cgroup directory's cookie: named by its controller, which the restored cgroup has too. */
const cgroupCookie = (controller: string): string => `cgroup/${controller}`;

/**
 * `destination` as the container sees it with its symlinks followed inside the root (a bind on
 * /conf -> /real/conf is the mount /real/conf), or as given when it does not exist (yet).
 */
function resolveInRoot(rootfs: string, destination: string): string {
  const root = fs.openSync(rootfs, O.PATH | O.DIRECTORY | O.CLOEXEC);
  try {
    const fd = openInRoot(root, destination, O.PATH);
    try {
      const real = fs.readlinkSync(procFdPath(fd));
      return real === rootfs ? '/' : real.startsWith(`${rootfs}/`) ? real.slice(rootfs.length) : destination;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return destination;
  } finally {
    fs.closeSync(root);
  }
}

/** The cgroup directories bound into the running container (mountpoint -> cookie), from its mountinfo. */
function boundCgroups(pid: number, cgroup: CgroupRecord | undefined): Map<string, string> {
  const result = new Map<string, string>();
  if (cgroup === undefined) return result;
  for (const m of parseMountinfo(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'))) {
    // A cgroup filesystem mounted whole is the container's own (a cgroup namespace): criu dumps it.
    if ((m.fstype !== 'cgroup' && m.fstype !== 'cgroup2') || m.root === '/') continue;
    const controller = m.fstype === 'cgroup2' ? (cgroup.version === 2 ? 'unified' : '') : m.superOptions.find((o) => o in cgroup.paths);
    if (controller !== undefined) result.set(m.mountpoint, cgroupCookie(controller));
  }
  return result;
}

/** runc's rule: a masked path that is a file in the running container (a directory gets a tmpfs). */
function maskedFiles(pid: number, plan: RootfsPlan): string[] {
  return plan.maskedPaths.filter((p) => {
    try {
      return !fs.statSync(`/proc/${pid}/root${p}`).isDirectory();
    } catch {
      return false;
    }
  });
}

/** `--external mnt[MOUNTPOINT]:COOKIE` for each mount from outside the running container `pid`. */
export function dumpExternalMounts(plan: RootfsPlan, pid: number, cgroup: CgroupRecord | undefined): string[] {
  const cookies = new Map<string, string>();
  for (const m of plan.mounts) {
    if (!m.bind) continue;
    const at = resolveInRoot(plan.rootfs, m.destination);
    cookies.set(at, at);
  }
  for (const [at, cookie] of boundCgroups(pid, cgroup)) cookies.set(at, cookie);
  for (const file of maskedFiles(pid, plan)) cookies.set(file, '/dev/null');
  for (const device of plan.devices) cookies.set(device.path, device.path);
  return [...cookies].map(([at, cookie]) => `mnt[${at}]:${cookie}`);
}

/** `--external mnt[COOKIE]:SOURCE`: what restore binds for each cookie that dump may have written. */
export function restoreExternalMounts(plan: RootfsPlan, cgroup: CgroupRecord | undefined): string[] {
  const sources = new Map<string, string>();
  for (const m of plan.mounts) {
    if (m.bind) sources.set(resolveInRoot(plan.rootfs, m.destination), m.source);
  }
  for (const [controller, dir] of Object.entries(cgroup?.paths ?? {})) sources.set(cgroupCookie(controller), dir);
  if (plan.maskedPaths.length > 0) sources.set('/dev/null', '/dev/null');
  for (const device of plan.devices) sources.set(device.path, device.path);
  return [...sources].map(([cookie, source]) => `mnt[${cookie}]:${source}`);
}

/**
 * Makes the rootfs ready for criu as create would have left it: every mountpoint exists, and
 * config.json's bind mounts are bound for the while, so that mountpoints of mounts nested in them
 * exist too (runc issue 2748). Mounts below a tmpfs are left alone: criu restores the tmpfs'
 * content whole. Returns the undo, which unmounts the temporary binds.
 */
export function prepareRestoreMountpoints(plan: RootfsPlan): () => void {
  const tmpfs = plan.mounts.filter((m) => m.type === 'tmpfs').map((m) => m.destination);
  const bound: string[] = [];
  const undo = () => {
    for (const at of bound.reverse()) umount(at, MNT_DETACH);
  };
  const root = fs.openSync(plan.rootfs, O.PATH | O.DIRECTORY | O.CLOEXEC);
  try {
    for (const m of plan.mounts) {
      if (m.type === 'cgroup' || m.type === 'cgroup2' || tmpfs.some((t) => m.destination.startsWith(`${t}/`))) continue;
      const file = m.bind && !fs.statSync(m.source).isDirectory();
      const fd = file ? createFileInRoot(root, m.destination) : mkdirAllInRoot(root, m.destination);
      try {
        if (!m.bind) continue;
        const at = fs.readlinkSync(procFdPath(fd)); // the host's path of the mountpoint, symlinks resolved in the root
        mount(m.source, procFdPath(fd), '', MS.BIND | MS.REC, '', `bind ${m.source} on ${m.destination} for criu`);
        bound.push(at);
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch (err) {
    undo();
    throw err;
  } finally {
    fs.closeSync(root);
  }
  return undo;
}
