// Signalling every task of a cgroup, the way runc's signalAllProcesses does it.
import { CgroupError } from './files.js';

/** Sends `signal` to each pid, ignoring tasks that exited in the meantime. */
export function signalPids(pids: number[], signal: NodeJS.Signals | number): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ESRCH') throw new CgroupError(`kill ${pid} with ${signal}: ${(err as Error).message}`, code);
    }
  }
}

export function isSigkill(signal: NodeJS.Signals | number): boolean {
  return signal === 'SIGKILL' || signal === 9;
}
