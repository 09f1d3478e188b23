// Per-container exclusive lock: flock(2) on the container's state directory, held by one tsrunc
// call at a time, released by the kernel if that call dies.
import fs from 'node:fs';
import { libc, check } from '../sys/libc.js';

const flock = libc.func('int flock(int fd, int operation)');
const LOCK_EX = 2;

export class DirLock {
  private constructor(private fd: number | undefined) {}

  /**
   * Waits for the lock on `dir`. A call that waited behind a delete holds the lock of a removed
   * directory, which may even have been made again for a new container by then: the lock only
   * counts if `dir` still names the directory locked, else this fails with ENOENT.
   */
  static acquire(dir: string): DirLock {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      check(flock(fd, LOCK_EX) as number, `lock ${dir}`);
      const locked = fs.fstatSync(fd);
      const named = fs.statSync(dir, { throwIfNoEntry: false });
      if (named?.ino !== locked.ino || named.dev !== locked.dev) {
        throw Object.assign(new Error(`${dir} was removed while waiting for its lock`), { code: 'ENOENT' });
      }
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    return new DirLock(fd);
  }

  release(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
