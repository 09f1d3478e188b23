// The one handle on the C library. Every module that makes a system call declares its
// functions against `libc` here and reports failures through `check`, so that errors read
// the same everywhere: "mount /proc on /x/proc: EPERM (Operation not permitted)".
import koffi from 'koffi';
import { constants, strerror } from './errno.js';

export const libc = koffi.load('libc.so.6');

/** An failed system call, carrying the errno name (e.g. 'ENOENT') as `code`. */
export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(what: string, errno: number) {
    const code = constants.get(errno) ?? `E${errno}`;
    super(`${what}: ${code} (${strerror(errno)})`);
    this.errno = errno;
    this.code = code;
  }
}

/** Reads errno right after a failed call; koffi keeps it per call on the calling thread. */
export function lastErrno(): number {
  return koffi.errno();
}

/** Throws a SysError describing `what` when a libc call returned -1 (or a negative bigint). */
export function check<T extends number | bigint>(ret: T, what: string): T {
  if (ret === -1 || (typeof ret === 'bigint' && ret < 0n)) throw new SysError(what, lastErrno());
  return ret;
}
