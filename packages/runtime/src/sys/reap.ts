// Waiting for a process that is not libuv's child: the container's init, which becomes ours once
// we are a child subreaper and the native stage that forked it has exited.
import fs from 'node:fs';
import { lastErrno, libc } from './libc.js';
import { prctl, PR_SET_CHILD_SUBREAPER } from './process.js';

// A plain pointer, not koffi's _Out_: bound through bun:ffi under Bun, where loading koffi would
// cost ~17 ms of CPU in every foreground `run` and `exec`.
const waitpid = libc.func('int waitpid(int pid, void *status, int options)');
const WNOHANG = 1;
const EINTR = 4;
const ECHILD = 10;
/** How long a process may take to become ours (see below) before ECHILD is taken as final. */
const ADOPTION_MS = 5000;
/** How often to ask again while the process is not ours yet. */
const ADOPTION_POLL_MS = 2;
/**
 * A SIGCHLD listener does not keep the event loop alive: this timer does, and asks once more in
 * case a SIGCHLD was taken by someone else (the engine reaps the children it spawned).
 */
const SAFETY_POLL_MS = 1000;

export function becomeSubreaper(): void {
  prctl(PR_SET_CHILD_SUBREAPER, 1, 'PR_SET_CHILD_SUBREAPER');
}

/** Shell-style exit code of a wait status: the exit status, or 128 + the signal number. */
export function exitCode(status: number): number {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : 128 + signal;
}

/**
 * Resolves with the shell-style exit code of `pid` once it has exited, asking waitpid(WNOHANG) at
 * each SIGCHLD, so that the event loop keeps forwarding signals meanwhile. The process becomes our
 * child only once the native stage that forked it has finished exiting, which the kernel completes
 * after that stage's fds are closed, so after we may have seen its socket close: until then
 * waitpid says ECHILD, and we ask again while the process exists.
 */
export function waitForExit(pid: number): Promise<number> {
  const adoptedBy = Date.now() + ADOPTION_MS;
  const status = new Int32Array(1);
  return new Promise((resolve, reject) => {
    let retry: NodeJS.Timeout | undefined;
    const finish = (): void => {
      process.off('SIGCHLD', poll);
      clearInterval(safety);
      clearTimeout(retry);
    };
    function poll(): void {
      for (;;) {
        const ret = waitpid(pid, status, WNOHANG) as number;
        if (ret === 0) return;
        if (ret === pid) {
          finish();
          return resolve(exitCode(status[0]!));
        }
        const errno = lastErrno();
        if (errno === EINTR) continue;
        if (errno === ECHILD && fs.existsSync(`/proc/${pid}`) && Date.now() < adoptedBy) {
          clearTimeout(retry);
          retry = setTimeout(poll, ADOPTION_POLL_MS);
          return;
        }
        finish();
        return reject(new Error(`waitpid ${pid}: errno ${errno}`));
      }
    }
    const safety = setInterval(poll, SAFETY_POLL_MS);
    process.on('SIGCHLD', poll);
    poll();
  });
}
