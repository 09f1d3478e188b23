// The one handle on the C library. Every module that makes a system call declares its
// functions against `libc` here and reports failures through `check`, so that errors read
// the same everywhere: "mount /proc on /x/proc: EPERM (Operation not permitted)".
// koffi is loaded on the first call, not on import: its native module costs tens of milliseconds
// of start-up, which `state`, `list` and `kill` do without although they import the store.
import type Koffi from 'koffi';
import { errnoName, strerror } from './errno.js';

let loaded: typeof Koffi | undefined;

/** The koffi module, loaded on first use; every module reaches koffi through this one instance. */
export function koffi(): typeof Koffi {
  return (loaded ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)('koffi') as typeof Koffi);
}

type LibcFunction = ReturnType<ReturnType<typeof Koffi.load>['func']>;
let handle: ReturnType<typeof Koffi.load> | undefined;

export const libc = {
  /** A function of the C library by its C declaration, bound on its first call. */
  func(declaration: string): LibcFunction {
    let bound: LibcFunction | undefined;
    const get = (): LibcFunction => (bound ??= (handle ??= koffi().load('libc.so.6')).func(declaration));
    const call = ((...args: unknown[]) => get()(...args)) as LibcFunction;
    call.async = (...args: unknown[]) => get().async(...args);
    return call;
  },
};

/** An failed system call, carrying the errno name (e.g. 'ENOENT') as `code`. */
export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(what: string, errno: number) {
    const code = errnoName(errno) ?? `E${errno}`;
    super(`${what}: ${code} (${strerror(errno)})`);
    this.errno = errno;
    this.code = code;
  }
}

/** Reads errno right after a failed call; koffi keeps it per call on the calling thread. */
export function lastErrno(): number {
  return koffi().errno();
}

/** Throws a SysError describing `what` when a libc call returned -1 (or a negative bigint). */
export function check<T extends number | bigint>(ret: T, what: string): T {
  if (ret === -1 || (typeof ret === 'bigint' && ret < 0n)) throw new SysError(what, lastErrno());
  return ret;
}
