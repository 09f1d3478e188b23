// A container without a mount namespace of its own has its mounts made in the host's, below its
// rootfs, and runc leaves them there after delete. Here they all hang from one mount: the init
// stage's bind of the rootfs on itself (index.ts), stacked on the mount that showed the rootfs
// before. tsrunc notes that mount's ID when it creates the container (before the init runs, so a
// create killed half way is covered too); delete, and a failed create, take off what is stacked
// on it at the rootfs, everything below coming off with it (MNT_DETACH).
import fs from 'node:fs';
import { MNT_DETACH, umount } from '../sys/mount.js';
import { readMountinfo } from '../sys/mountinfo.js';
import { O } from '../sys/openat2.js';

/** The ID of the mount `dir` is on now: the last one stacked on it, or the one holding it. */
export function mountIdAt(dir: string): number {
  const fd = fs.openSync(dir, O.PATH | O.DIRECTORY | O.CLOEXEC);
  try {
    const id = /^mnt_id:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (!id) throw new Error(`no mnt_id in /proc/self/fdinfo/${fd}`);
    return Number(id[1]);
  } finally {
    fs.closeSync(fd);
  }
}

/** The mounts stacked at `dir` on the mount `base`, bottom first: tsrunc's bind, and any put over it. */
function stackedOn(dir: string, base: number): number[] {
  const atDir = readMountinfo().filter((m) => m.mountpoint === dir);
  const stack: number[] = [];
  for (let below = base; ; ) {
    const next = atDir.find((m) => m.parentId === below);
    if (!next) return stack;
    stack.push(next.id);
    below = next.id;
  }
}

/**
 * Unmounts what create stacked on the mount `base` at `rootfs` (a real path), top first, each only
 * while it is the one the path shows: a mount that is not ours is never taken off.
 */
export function unmountFromHost(rootfs: string, base: number): void {
  for (const id of stackedOn(rootfs, base).reverse()) {
    const shown = mountIdAt(rootfs);
    if (shown !== id) throw new Error(`unmount the container's mounts at ${rootfs}: the path shows mount ${shown}, not ${id}; left in place`);
    umount(rootfs, MNT_DETACH);
  }
}
