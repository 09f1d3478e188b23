// A foreground `run` or `exec`: wait for the container's process while forwarding to it the
// signals tsrunc receives, as runc does, and exit with its status.
import { waitForExit } from '../sys/reap.js';

/** Not SIGWINCH, which runc never forwards: a terminal's new size reaches the container through its pty (console/relay.ts). */
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

export async function waitForeground(pid: number): Promise<number> {
  const forward = (signal: NodeJS.Signals) => {
    try { process.kill(pid, signal); } catch { /* already exited */ }
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  try {
    return await waitForExit(pid);
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
  }
}
