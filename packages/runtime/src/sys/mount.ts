// mount(2) and friends, with the flag names of <sys/mount.h>.
import { libc, check } from './libc.js';

const mountC = libc.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
const umount2C = libc.func('int umount2(const char *target, int flags)');

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

/** MOUNT_ATTR_* of mount_setattr(2), for the recursive mount options ("rro", "rnosuid"...). */
export const MOUNT_ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME_MASK: 0x70, RELATIME: 0x0, NOATIME: 0x10,
  STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000,
} as const;
