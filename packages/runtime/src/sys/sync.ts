// syncfs(2): everything written to one filesystem, on disk at once.
import fs from 'node:fs';
import { check, libc } from './libc.js';

const syncfsC = libc.func('int syncfs(int fd)');

/**
 * Flushes the filesystem that holds `dir`: one flush for all its files, where an fsync of each
 * would wait for the disk once per file (a volatile overlay's writes, made durable at its end).
 */
export function syncFilesystem(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    check(syncfsC(fd) as number, `syncfs ${dir}`);
  } finally {
    fs.closeSync(fd);
  }
}
