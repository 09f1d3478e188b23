import { libc, check } from './libc.js';
import { umask } from './process.js';

const mkfifoC = libc.func('int mkfifo(const char *path, uint32_t mode)');

/** mkfifo(3) with exactly `mode`, whatever the caller's umask. */
export function mkfifo(path: string, mode: number): void {
  const old = umask(0);
  try {
    check(mkfifoC(path, mode) as number, `mkfifo ${path}`);
  } finally {
    umask(old);
  }
}
