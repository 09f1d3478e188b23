import { libc, check } from './libc.js';

const mkfifoC = libc.func('int mkfifo(const char *path, uint32_t mode)');
const umaskC = libc.func('uint32_t umask(uint32_t mask)');

/** mkfifo(3) with exactly `mode`, whatever the caller's umask. */
export function mkfifo(path: string, mode: number): void {
  const old = umaskC(0) as number;
  try {
    check(mkfifoC(path, mode) as number, `mkfifo ${path}`);
  } finally {
    umaskC(old);
  }
}
