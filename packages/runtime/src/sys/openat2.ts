// Path resolution inside a container's root filesystem that cannot be led out of it: openat2(2)
// with RESOLVE_IN_ROOT makes the kernel treat the rootfs as "/" for every symlink and "..",
// so a hostile rootfs (a symlink /proc -> /etc of the host, say) cannot aim a mount at the host.
import fs from 'node:fs';
import path from 'node:path';
import { libc, check, lastErrno, SysError } from './libc.js';
import { syscallNumber } from './syscalls.js';

const openat2C = libc.func('long syscall(long nr, int dirfd, const char *path, void *how, size_t size)');
const mkdiratC = libc.func('int mkdirat(int dirfd, const char *path, uint32_t mode)');
const EEXIST = 17;

export const O = {
  RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, NOCTTY: 0o400, TRUNC: 0o1000,
  DIRECTORY: 0o200000, NOFOLLOW: 0o400000, CLOEXEC: 0o2000000, PATH: 0o10000000,
} as const;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;

/** Opens `relative` (absolute paths are taken relative to the root too) below the directory `rootFd`. */
export function openInRoot(rootFd: number, relative: string, flags: number, mode = 0): number {
  const how = Buffer.alloc(24); // struct open_how { u64 flags, mode, resolve }
  how.writeBigUInt64LE(BigInt(flags | O.CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(mode), 8);
  how.writeBigUInt64LE(BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), 16);
  return Number(check(Number(openat2C(syscallNumber('openat2'), rootFd, relative, how, how.length)), `open ${relative} in the container's root`));
}

/** Components of a path below the root; ".." is resolved lexically first, never above the root. */
function components(relative: string): string[] {
  return path.posix.normalize('/' + relative).split('/').filter((part) => part !== '');
}

/**
 * mkdir -p inside the root; returns an O_PATH fd of the directory. Each prefix is resolved from
 * the root again, so that a symlink met on the way is followed as the container would see it.
 */
export function mkdirAllInRoot(rootFd: number, relative: string, mode = 0o755): number {
  const parts = components(relative);
  let dirFd = openInRoot(rootFd, '.', O.PATH | O.DIRECTORY);
  try {
    for (let i = 0; i < parts.length; i++) {
      const prefix = parts.slice(0, i + 1).join('/');
      let next: number;
      try {
        next = openInRoot(rootFd, prefix, O.PATH | O.DIRECTORY);
      } catch (err) {
        if ((err as SysError).code !== 'ENOENT') throw err;
        const ret = mkdiratC(dirFd, parts[i]!, mode) as number;
        if (ret < 0 && lastErrno() !== EEXIST) check(ret, `mkdir /${prefix} in the container's root`);
        next = openInRoot(rootFd, prefix, O.PATH | O.DIRECTORY);
      }
      fs.closeSync(dirFd);
      dirFd = next;
    }
    return dirFd;
  } catch (err) {
    fs.closeSync(dirFd);
    throw err;
  }
}

/** Like mkdirAllInRoot for the parent, then an empty file (if missing) as the last component. */
export function createFileInRoot(rootFd: number, relative: string): number {
  const parts = components(relative);
  const name = parts.pop();
  if (name === undefined) throw new Error(`cannot create a file at the container's root`);
  fs.closeSync(mkdirAllInRoot(rootFd, parts.join('/')));
  const full = [...parts, name].join('/');
  fs.closeSync(openInRoot(rootFd, full, O.CREAT | O.RDONLY | O.NOCTTY, 0o644));
  return openInRoot(rootFd, full, O.PATH);
}

/** The path through which mount(2) reaches what `fd` refers to, without resolving any name again. */
export function procFdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}
