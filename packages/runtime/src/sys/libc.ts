// The one handle on the C library. Every module that makes a system call declares its
// functions against `libc` here and reports failures through `check`, so that errors read
// the same everywhere: "mount /proc on /x/proc: EPERM (Operation not permitted)".
// koffi is loaded on the first call, not on import: its native module costs tens of milliseconds
// of start-up, which `state`, `list` and `kill` do without although they import the store.
import type Koffi from 'koffi';
import { bindWithBunFfi, lastFfiErrno } from './bun-ffi.js';
import { errnoName, strerror } from './errno.js';
import { SINGLE_BINARY } from './single-binary.js';

let loaded: typeof Koffi | undefined;
/** Type declarations (structs) waiting for koffi to be loaded: see defineTypes. */
const pendingTypes: (() => void)[] = [];

/** Where koffi is looked up from: this module, or in tsrunc's single binary its directory, dist/. */
function requireBase(): string {
  return SINGLE_BINARY ? `${process.execPath}.js` : import.meta.url;
}

/** The koffi module, loaded on first use; every module reaches koffi through this one instance. */
export function koffi(): typeof Koffi {
  if (loaded) return loaded;
  loaded = process.getBuiltinModule('node:module').createRequire(requireBase())('koffi') as typeof Koffi;
  for (const define of pendingTypes.splice(0)) define();
  return loaded;
}

/**
 * Declares a module's C types (koffi structs) when koffi is loaded, not when the module is: a
 * struct declared at import would load koffi (~15 ms) for every command that merely imports the
 * module (`start` imports the cgroup code for its rare failure path). Functions bound with
 * libc.func that name these types bind on their first call, by which time the types exist.
 */
export function defineTypes(define: () => void): void {
  if (loaded) define();
  else pendingTypes.push(define);
}

type LibcFunction = ReturnType<ReturnType<typeof Koffi.load>['func']>;
let handle: ReturnType<typeof Koffi.load> | undefined;

/** Which FFI made the last call on this thread, for lastErrno. */
let lastCallByBunFfi = false;

export const libc = {
  /**
   * A function of the C library by its C declaration, bound on its first call: through bun:ffi
   * under Bun where the declaration allows (bun-ffi.ts: no koffi load), else through koffi.
   */
  func(declaration: string): LibcFunction {
    let bound: LibcFunction | undefined;
    const get = (): LibcFunction => (bound ??= (handle ??= koffi().load('libc.so.6')).func(declaration));
    const fast = bindWithBunFfi(declaration);
    if (fast) {
      const call = ((...args: unknown[]) => {
        lastCallByBunFfi = true;
        return fast(...args);
      }) as LibcFunction;
      // bun:ffi has no calls on a worker thread: those (a builder waiting on a lock) go through koffi.
      call.async = (...args: unknown[]) => get().async(...args);
      return call;
    }
    const call = ((...args: unknown[]) => {
      lastCallByBunFfi = false;
      return get()(...args);
    }) as LibcFunction;
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

/** Reads errno right after a failed call, from whichever FFI made it (each keeps it per call). */
export function lastErrno(): number {
  return lastCallByBunFfi ? lastFfiErrno() : koffi().errno();
}

/** Throws a SysError describing `what` when a libc call returned -1 (or a negative bigint). */
export function check<T extends number | bigint>(ret: T, what: string): T {
  if (ret === -1 || (typeof ret === 'bigint' && ret < 0n)) throw new SysError(what, lastErrno());
  return ret;
}
