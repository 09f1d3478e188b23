// pivot_root refuses a new root whose parent mount is shared (EINVAL), and a bind mount of the
// rootfs on a shared mount would propagate to the host's namespace: runc makes the mount holding
// the rootfs private first (rootfsParentMountPrivate), which matters once rootfsPropagation has
// made "/" shared.
import { MS, mount } from '../sys/mount.js';
import { readMountinfo, type MountInfo } from '../sys/mountinfo.js';

/** The mount that holds `dir`: the deepest mount point at or above it, the last mounted if stacked. */
function mountHolding(dir: string, mounts: MountInfo[]): MountInfo | undefined {
  let holder: MountInfo | undefined;
  for (const m of mounts) {
    const above = m.mountpoint === '/' || dir === m.mountpoint || dir.startsWith(`${m.mountpoint}/`);
    if (above && m.mountpoint.length >= (holder?.mountpoint.length ?? 0)) holder = m;
  }
  return holder;
}

/** `rootfs` is a real path, seen from the container's mount namespace before pivot_root. */
export function makeRootfsParentPrivate(rootfs: string): void {
  const holder = mountHolding(rootfs, readMountinfo());
  if (!holder) throw new Error(`no mount holds the rootfs ${rootfs}`);
  if (!holder.optionalFields.some((f) => f.startsWith('shared:'))) return;
  mount('', holder.mountpoint, '', MS.PRIVATE, '', `make ${holder.mountpoint}, which holds the rootfs, private`);
}
