// Waiting for a process that is not libuv's child: the container's init, which becomes ours once
// we are a child subreaper and the native stage that forked it has exited.
import fs from 'node:fs';
import { koffi, libc } from './libc.js';
import { prctl, PR_SET_CHILD_SUBREAPER } from './process.js';

const waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
const WNOHANG = 1;
const ECHILD = 10;
/** How long a process may take to become ours (see below) before ECHILD is taken as final. */
const ADOPTION_MS = 5000;

export function becomeSubreaper(): void {
  prctl(PR_SET_CHILD_SUBREAPER, 1, 'PR_SET_CHILD_SUBREAPER');
}

/** Shell-style exit code of a wait status: the exit status, or 128 + the signal number. */
export function exitCode(status: number): number {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : 128 + signal;
}

/**
 * waitpid(pid) on a worker thread, so that the event loop keeps forwarding signals meanwhile.
 * The process becomes our child only once the native stage that forked it has finished exiting,
 * which the kernel completes after that stage's fds are closed, so after we may have seen its
 * socket close: until then waitpid says ECHILD, and we ask again while the process exists.
 */
export function waitForExit(pid: number): Promise<number> {
  const adoptedBy = Date.now() + ADOPTION_MS;
  return new Promise((resolve, reject) => {
    const status = [0];
    const attempt = (): void => {
      waitpid.async(pid, status, 0, (err: unknown, ret: number) => {
        if (err) return reject(err);
        if (ret === -1) {
          // The worker thread's errno cannot be read from here (it is per thread), and a signal
          // meant for the engine may land on that thread (EINTR): ask again, on this thread.
          const now = waitpid(pid, status, WNOHANG) as number;
          if (now === 0) return attempt();
          if (now === -1) {
            const errno = koffi().errno();
            if (errno === ECHILD && fs.existsSync(`/proc/${pid}`) && Date.now() < adoptedBy) return void setTimeout(attempt, 2);
            return reject(new Error(`waitpid ${pid}: errno ${errno}`));
          }
        }
        resolve(exitCode(status[0]!));
      });
    };
    attempt();
  });
}
