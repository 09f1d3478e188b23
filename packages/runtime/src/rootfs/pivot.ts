// Making the rootfs the container's "/" (plan.ts's Jail): pivot_root, or for --no-pivot (a rootfs
// on ramfs, where pivot_root is refused) moving it over "/" and chroot'ing, as runc does; in the
// host's mount namespace chroot alone.
import fs from 'node:fs';
import { libc, check } from '../sys/libc.js';
import { parseMountinfo } from '../sys/mountinfo.js';
import { MNT_DETACH, MS, mount, pivotRoot, umount } from '../sys/mount.js';

const fchdir = libc.func('int fchdir(int fd)');
const chroot = libc.func('int chroot(const char *path)');

/** pivot_root(".", "."): the old root ends up stacked under the new one and is detached from there. */
export function pivotInto(rootfs: string): void {
  const oldRoot = fs.openSync('/', fs.constants.O_DIRECTORY | fs.constants.O_RDONLY);
  const newRoot = fs.openSync(rootfs, fs.constants.O_DIRECTORY | fs.constants.O_RDONLY);
  try {
    check(fchdir(newRoot) as number, `chdir ${rootfs}`);
    pivotRoot('.', '.');
    check(fchdir(oldRoot) as number, 'chdir to the old root');
    // Unmounting the old root must not propagate to the host's mounts.
    mount('', '.', '', MS.SLAVE | MS.REC, '', 'make the old root a slave');
    umount('.', MNT_DETACH);
  } finally {
    fs.closeSync(oldRoot);
    fs.closeSync(newRoot);
  }
  process.chdir('/');
}

/**
 * With --no-pivot the host's mounts stay in the container's mount namespace, out of sight but
 * there: a fully visible proc or sysfs among them lets the container mount a fresh one (the kernel
 * allows that only while one is visible somewhere in the namespace), so they are detached, or
 * covered with an empty tmpfs where the kernel keeps them locked, as runc does.
 */
function hideHostProcAndSys(rootfs: string): void {
  const mounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  for (const m of mounts.reverse()) {
    if (m.fstype !== 'proc' && m.fstype !== 'sysfs') continue;
    if (m.mountpoint === rootfs || m.mountpoint.startsWith(`${rootfs}/`)) continue;
    try {
      umount(m.mountpoint, MNT_DETACH);
    } catch {
      mount('tmpfs', m.mountpoint, 'tmpfs', MS.RDONLY, 'size=0', `cover ${m.mountpoint}`);
    }
  }
}

/** The working directory, the rootfs (`what`), becomes "/". */
function chrootHere(what: string): void {
  check(chroot('.') as number, `chroot ${what}`);
  process.chdir('/');
}

export function moveInto(rootfs: string): void {
  hideHostProcAndSys(rootfs);
  process.chdir(rootfs);
  mount(rootfs, '/', '', MS.MOVE, '', `move ${rootfs} to /`);
  chrootHere(rootfs);
}

/** The host's mounts stay where they are, beyond the new "/", as runc leaves them. */
export function chrootInto(rootfs: string): void {
  process.chdir(rootfs);
  chrootHere(rootfs);
}
