// flock(2) on a directory of the store: a lock the kernel releases when its holder dies, however it
// dies, so a killed build never leaves the store locked. Waiting happens on koffi's worker thread,
// not the event loop, so a build waiting on another keeps its running steps' output flowing.
import fs from 'node:fs';
import { lastErrno, libc, SysError } from '@tsrunc/runtime/platform';

const flock = libc.func('int flock(int fd, int operation)');
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EWOULDBLOCK = 11;
const EINTR = 4;

/** flock(fd, op) on koffi's worker thread: whether it succeeded (its errno stays on that thread). */
function flockOnWorker(fd: number, op: number): Promise<boolean> {
  return new Promise((resolve, reject) => flock.async(fd, op, (err: unknown, ret: number) => (err ? reject(err as Error) : resolve(ret === 0))));
}

export type LockMode = 'shared' | 'exclusive';

export class DirLock {
  private constructor(private fd: number | undefined, readonly dir: string) {}

  /** Waits until `dir` can be locked in `mode`. */
  static async acquire(dir: string, mode: LockMode): Promise<DirLock> {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      const op = mode === 'shared' ? LOCK_SH : LOCK_EX;
      // Asked first without waiting, on this thread: a lock nobody holds (the usual case) needs no
      // worker thread, and under Bun no koffi (~17 ms to load). A wait that fails is asked again
      // here, so that its cause is read on this thread; an EINTR (or a lock taken meanwhile by
      // another) just waits again.
      while (flock(fd, op | LOCK_NB) !== 0) {
        const errno = lastErrno();
        if (errno !== EWOULDBLOCK && errno !== EINTR) throw new SysError(`lock ${dir}`, errno);
        if (await flockOnWorker(fd, op)) break;
      }
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return new DirLock(fd, dir);
  }

  /** Locks `dir` in `mode` if nobody holds a conflicting lock; undefined otherwise. */
  static tryAcquire(dir: string, mode: LockMode): DirLock | undefined {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    if (flock(fd, (mode === 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB) === 0) return new DirLock(fd, dir);
    const errno = lastErrno();
    fs.closeSync(fd);
    if (errno === EWOULDBLOCK) return undefined;
    throw new SysError(`lock ${dir}`, errno);
  }

  release(): void {
    if (this.fd === undefined) return;
    flock(this.fd, LOCK_UN);
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The lock waits of this process, per directory: flock excludes open files, not processes, so two waits here would not exclude each other's holders. */
const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` with `dir` locked exclusively: the read-modify-write of a file that several builds share. */
export function withDirLock<T>(dir: string, fn: () => T): Promise<T> {
  const run = async () => {
    const lock = await DirLock.acquire(dir, 'exclusive');
    try {
      return fn();
    } finally {
      lock.release();
    }
  };
  const result = (queues.get(dir) ?? Promise.resolve()).then(run, run);
  const tail = result.catch(() => undefined);
  queues.set(dir, tail);
  void tail.then(() => { if (queues.get(dir) === tail) queues.delete(dir); });
  return result;
}
