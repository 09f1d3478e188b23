// mount(2) and friends, with the flag names of <sys/mount.h>.
import fs from 'node:fs';
import { libc, check } from './libc.js';
import { syscallNumber } from './syscalls.js';

const mountC = libc.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
const umount2C = libc.func('int umount2(const char *target, int flags)');
const syscall3 = libc.func('long syscall(long nr, const char *a, const char *b)');
const mountSetattrC = libc.func('long syscall(long nr, int dirfd, const char *path, unsigned int flags, void *attr, size_t size)');
const openTreeC = libc.func('long syscall(long nr, int dirfd, const char *path, unsigned int flags)');
const moveMountC = libc.func('long syscall(long nr, int fromDirfd, const char *fromPath, int toDirfd, const char *toPath, unsigned int flags)');

export const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, SYNCHRONOUS: 0x10, REMOUNT: 0x20, MANDLOCK: 0x40,
  DIRSYNC: 0x80, NOSYMFOLLOW: 0x100, NOATIME: 0x400, NODIRATIME: 0x800, BIND: 0x1000, MOVE: 0x2000,
  REC: 0x4000, SILENT: 0x8000, UNBINDABLE: 0x20000, PRIVATE: 0x40000, SLAVE: 0x80000, SHARED: 0x100000,
  RELATIME: 0x200000, STRICTATIME: 0x1000000, LAZYTIME: 0x2000000,
} as const;

export const MNT_DETACH = 2;

export function mount(source: string, target: string, fstype: string, flags: number, data: string, what?: string): void {
  const ret = mountC(source, target, fstype, flags, data === '' ? null : data) as number;
  check(ret, what ?? `mount ${source} on ${target} (type ${fstype || 'none'}, flags 0x${flags.toString(16)})`);
}

export function umount(target: string, flags = 0): void {
  check(umount2C(target, flags) as number, `umount ${target}`);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check(Number(syscall3(syscallNumber('pivot_root'), newRoot, putOld)), `pivot_root ${newRoot}`);
}

/** MOUNT_ATTR_* of mount_setattr(2), for the recursive mount options ("rro", "rnosuid"...). */
export const MOUNT_ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME_MASK: 0x70, RELATIME: 0x0, NOATIME: 0x10,
  STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000,
} as const;
const AT_RECURSIVE = 0x8000;
const AT_EMPTY_PATH = 0x1000;

/** Sets and clears MOUNT_ATTR_* flags on the mount at `fd` and every mount below it. */
export function setMountAttrRecursive(fd: number, set: number, clear: number, what: string): void {
  const attr = Buffer.alloc(32); // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
  attr.writeBigUInt64LE(BigInt(set), 0);
  attr.writeBigUInt64LE(BigInt(clear), 8);
  check(Number(mountSetattrC(syscallNumber('mount_setattr'), fd, '', AT_EMPTY_PATH | AT_RECURSIVE, attr, attr.length)), `mount_setattr ${what}`);
}

const OPEN_TREE_CLONE = 0x1, OPEN_TREE_CLOEXEC = 0o2000000;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4, MOVE_MOUNT_T_EMPTY_PATH = 0x40;

/**
 * Binds what `sourceFd` refers to on what `targetFd` refers to (open_tree, then move_mount): no
 * name is resolved again, and no /proc is needed, as it is for mount(2) through /proc/self/fd.
 */
export function bindFdOnFd(sourceFd: number, targetFd: number, what: string): void {
  const tree = Number(check(Number(openTreeC(syscallNumber('open_tree'), sourceFd, '', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)), `open_tree to ${what}`));
  try {
    check(Number(moveMountC(syscallNumber('move_mount'), tree, '', targetFd, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)), what);
  } finally {
    fs.closeSync(tree);
  }
}

const statvfsC = libc.func('int statvfs(const char *path, void *buf)');
const STATVFS_SIZE = 112;
const STATVFS_FLAG_OFFSET = 72;
/** The flags a mount in a user namespace cannot lose on remount (the kernel "locks" them). */
const LOCKABLE = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME | MS.RELATIME;

/** The MS_* flags of the mount that holds `path` that a bind remount must keep. */
export function lockedMountFlags(path: string): number {
  const buf = Buffer.alloc(STATVFS_SIZE);
  check(statvfsC(path, buf) as number, `statvfs ${path}`);
  // ST_* values equal MS_* values for these flags.
  return Number(buf.readBigUInt64LE(STATVFS_FLAG_OFFSET)) & LOCKABLE & ~MS.RDONLY;
}

/** Remounts the bind mount at `path` with `flags`, keeping the flags the kernel would refuse to drop. */
export function remountBind(path: string, flags: number): void {
  mount('', path, '', MS.BIND | MS.REMOUNT | flags | lockedMountFlags(path), '', `remount ${path} (flags 0x${flags.toString(16)})`);
}
