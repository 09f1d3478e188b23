// SCMP_ACT_NOTIFY: the listener of a container process' seccomp filter goes to the agent at
// linux.seccomp.listenerPath, with the container process state (runtime-spec config-linux.md), as
// runc sends it. The process executor loaded the filter and names the listener's fd on the sync
// socket; we take a copy of it with pidfd_getfd(2), send it on, and keep none.
import fs from 'node:fs';
import type { State } from '@tsrunc/spec-schemas';
import { connectUnixSocket, sendFd } from '../console/index.js';
import type { Channel } from '../launch/channel.js';
import type { SeccompPlan } from '../process/seccomp.js';
import { check, libc } from '../sys/libc.js';
import { syscallNumber } from '../sys/syscalls.js';
import { OCI_VERSION } from '../state/status.js';

const syscall3 = libc.func('long syscall(long nr, int a, int b, unsigned int flags)');

/** runtime-spec's name of the listener in the state's `fds`. */
const SECCOMP_FD_NAME = 'seccompFd';

/** The container process state, as runtime-spec defines it. */
export interface ContainerProcessState {
  ociVersion: string;
  fds: string[];
  /** The process whose filter it is, as the runtime sees it. */
  pid: number;
  metadata?: string;
  state: State;
}

/** A copy, close-on-exec, of another process' fd (pidfd_getfd makes it so). */
function copyFdOf(pid: number, fd: number): number {
  const pidfd = Number(check(Number(syscall3(syscallNumber('pidfd_open'), pid, 0, 0)), `pidfd_open ${pid}`));
  try {
    return Number(check(Number(syscall3(syscallNumber('pidfd_getfd'), pidfd, fd, 0)), `take the seccomp listener (fd ${fd}) of process ${pid}`));
  } finally {
    fs.closeSync(pidfd);
  }
}

/**
 * Sends the listener of process `pid` (its fd `fd`) to the agent, one connection per listener.
 * runc's words for an agent that is not there, which its users and tests look for.
 */
function sendListenerToAgent(listener: { path: string; metadata: string }, pid: number, fd: number, state: State): void {
  const copy = copyFdOf(pid, fd);
  try {
    let socket: number;
    try {
      socket = connectUnixSocket(listener.path, 'seccomp agent socket');
    } catch (err) {
      throw new Error(`failed to connect with seccomp agent specified in the seccomp profile: ${(err as Error).message}`);
    }
    try {
      const processState: ContainerProcessState = {
        ociVersion: OCI_VERSION,
        fds: [SECCOMP_FD_NAME],
        pid,
        ...(listener.metadata ? { metadata: listener.metadata } : {}),
        state,
      };
      sendFd(socket, copy, JSON.stringify(processState), `the seccomp listener to ${listener.path}`);
    } finally {
      fs.closeSync(socket);
    }
  } finally {
    fs.closeSync(copy);
  }
}

/**
 * The executor's `seccompListener` message: the listener goes to the agent, then the executor,
 * which waits for it, hears 'L' and goes on. `pid` is the executor's, which becomes the process.
 */
export function answerListener(channel: Channel, seccomp: SeccompPlan | undefined, pid: number, fd: number, state: State): void {
  if (!seccomp?.listener) throw new Error('the process executor sent a seccomp listener the plan did not ask for');
  sendListenerToAgent(seccomp.listener, pid, fd, state);
  channel.write('L');
}
