// The init stage's last act: exec the native process executor (native/process.c) from the sealed
// copy the native stage left us, with the process plan in a memfd. execve ends every thread of
// Node, so the container's process is set up by a single-threaded, non-dumpable program that
// holds nothing of the host but that plan.
import fs from 'node:fs';
import { check, libc } from '../sys/libc.js';
import { SYNC_FD } from '../launch/stage.js';
import { prctl, PR_SET_DUMPABLE } from '../sys/process.js';

const memfdCreate = libc.func('int memfd_create(const char *name, unsigned int flags)');
const fexecve = libc.func('int fexecve(int fd, const char **argv, const char **envp)');
const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
const F_SETFD = 2;

/**
 * As runc's init: no process of a namespace we share (a joined pid namespace) may ptrace the init
 * stage or open its /proc files while it holds the host's privileges and, before pivot_root, the
 * host's root; execve of Node made it dumpable again. The executor keeps it so until its execve.
 */
export function becomeNonDumpable(): void {
  prctl(PR_SET_DUMPABLE, 0, 'PR_SET_DUMPABLE');
}

/** The native stage's fd of its own sealed binary, which it leaves open for us. */
export function executorFd(): number {
  const text = process.env._TSRUNC_EXECUTOR_FD;
  if (text === undefined) throw new Error('init: the native stage passed no executor');
  return Number(text);
}

/** `inherited`: how many fds from 3 on the init stage was given (sync socket, fifo, console, preserved). */
export function handOverToExecutor(executor: number, plan: Buffer, inherited: number): never {
  // Not close-on-exec: the executor reads it.
  const planFd = check(memfdCreate('tsrunc-process-plan', 0) as number, 'memfd_create');
  fs.writeSync(planFd, plan);
  // Node marks the fds it inherits close-on-exec; the executor and the program need them.
  for (let fd = 0; fd < 3 + inherited; fd++) check(fcntl(fd, F_SETFD, 0) as number, `keep fd ${fd} across exec`);
  check(fexecve(executor, ['tsrunc-nsexec', '--process', String(planFd), null], [`_TSRUNC_SYNC_FD=${SYNC_FD}`, null]) as number, 'exec the process executor');
  throw new Error('fexecve returned without an error');
}
