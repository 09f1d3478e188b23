// Extended attributes and device nodes, which node:fs cannot reach, through the runtime's
// libc handle. All calls use the l* variants so a symlink is never followed; koffi has no
// ssize_t, so intptr_t (same width) stands in for it.
import { check, libc, lastErrno, makedev } from '@tsrunc/runtime/platform';

const llistxattrC = libc.func('intptr_t llistxattr(const char *path, void *list, size_t size)');
const lgetxattrC = libc.func('intptr_t lgetxattr(const char *path, const char *name, void *value, size_t size)');
const lsetxattrC = libc.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');
const lremovexattrC = libc.func('int lremovexattr(const char *path, const char *name)');
const mknodC = libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');

const ENODATA = 61;
const ENOTSUP = 95;
const ERANGE = 34;

/** Calls a size-probing xattr function until the buffer is large enough (the value can grow between calls). */
function readSized(call: (buf: Buffer | null, size: number) => number, what: string): Buffer | null {
  for (;;) {
    const need = call(null, 0);
    if (need < 0) {
      const errno = lastErrno();
      if (errno === ENODATA || errno === ENOTSUP) return null;
      check(need, what);
    }
    const buf = Buffer.alloc(need);
    const got = need === 0 ? 0 : call(buf, need);
    if (got < 0 && lastErrno() === ERANGE) continue;
    check(got, what);
    return buf.subarray(0, got);
  }
}

/** Lists the xattr names of `path` (not following symlinks); empty when the filesystem has none. */
export function listXattrs(path: string): string[] {
  const buf = readSized((b, n) => Number(llistxattrC(path, b, n)), `llistxattr ${path}`);
  if (!buf || buf.length === 0) return [];
  return buf.toString('utf8').split('\0').filter((name) => name !== '');
}

/** Reads one xattr; null when it is not set. */
export function getXattr(path: string, name: string): Buffer | null {
  return readSized((b, n) => Number(lgetxattrC(path, name, b, n)), `lgetxattr ${path} ${name}`);
}

export function setXattr(path: string, name: string, value: Buffer): void {
  check(Number(lsetxattrC(path, name, value, value.length, 0)), `lsetxattr ${path} ${name}`);
}

export function removeXattr(path: string, name: string): void {
  check(Number(lremovexattrC(path, name)), `lremovexattr ${path} ${name}`);
}

export function devMajor(rdev: bigint): number {
  return Number(((rdev & 0xfff00n) >> 8n) | ((rdev & 0xfffff00000000000n) >> 32n));
}

export function devMinor(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev & 0xffffff00000n) >> 12n));
}

/** mknod(2): `mode` carries the file type bits (S_IFCHR, S_IFBLK, S_IFIFO) and permissions. */
export function mknod(path: string, mode: number, major: number, minor: number): void {
  check(Number(mknodC(path, mode, makedev(major, minor))), `mknod ${path}`);
}
