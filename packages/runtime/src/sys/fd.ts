// File descriptor plumbing for the moment before execve: which fds the new program gets, and how.
import fs from 'node:fs';
import { libc, check } from './libc.js';

const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
const dup3 = libc.func('int dup3(int oldfd, int newfd, int flags)');
const F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, FD_CLOEXEC = 1, O_NONBLOCK = 0o4000;

/** Node makes its pipes and ttys non-blocking; most programs expect blocking stdio. */
export function makeBlocking(fd: number): void {
  const flags = fcntl(fd, F_GETFL, 0) as number;
  if (flags >= 0 && flags & O_NONBLOCK) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

/** Moves `from` to exactly `to`, open across execve (`from === to`: only clears close-on-exec). */
export function moveFd(from: number, to: number): void {
  if (from === to) {
    const flags = check(fcntl(from, F_GETFD, 0) as number, `fcntl ${from}`);
    check(fcntl(from, F_SETFD, flags & ~FD_CLOEXEC) as number, `fcntl ${from}`);
    return;
  }
  check(dup3(from, to, 0) as number, `dup3 ${from} -> ${to}`);
  fs.closeSync(from);
}

/** Marks every open fd >= `first` close-on-exec, so that nothing of the runtime leaks into the container. */
export function closeOnExecFrom(first: number): void {
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd < first) continue;
    const flags = fcntl(fd, F_GETFD, 0) as number;
    if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}
