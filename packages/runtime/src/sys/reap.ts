// Waiting for a process that is not libuv's child: the container's init, which becomes ours once
// we are a child subreaper and the native stage that forked it has exited.
import { koffi, libc } from './libc.js';
import { prctl, PR_SET_CHILD_SUBREAPER } from './process.js';

const waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
const WNOHANG = 1;

export function becomeSubreaper(): void {
  prctl(PR_SET_CHILD_SUBREAPER, 1, 'PR_SET_CHILD_SUBREAPER');
}

/** Shell-style exit code of a wait status: the exit status, or 128 + the signal number. */
export function exitCode(status: number): number {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : 128 + signal;
}

/** waitpid(pid) on a worker thread, so that the event loop keeps forwarding signals meanwhile. */
export function waitForExit(pid: number): Promise<number> {
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
          if (now === -1) return reject(new Error(`waitpid ${pid}: errno ${koffi().errno()}`));
        }
        resolve(exitCode(status[0]!));
      });
    };
    attempt();
  });
}
