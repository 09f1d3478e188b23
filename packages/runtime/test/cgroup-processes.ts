// Host processes for the cgroup manager tests: started outside the cgroup, moved in, and killed
// with the cgroup removed at the end, whatever state a failed test left them in.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { CgroupManager } from '../src/cgroups/index.js';

/** A shell that waits for a line on stdin before running `script`, so it can be moved into the cgroup first. */
export function parked(script: string): ChildProcess {
  return spawn('/bin/sh', ['-c', `read _; ${script}`], { stdio: ['pipe', 'ignore', 'pipe'] });
}

export function release(child: ChildProcess): void {
  child.stdin?.end('\n');
}

export function sleeper(): ChildProcess {
  return spawn('sleep', ['30'], { stdio: 'ignore' });
}

/** The signal that ended the child (null for an exit); SIGKILLs it after `ms`. */
export async function waitExit(child: ChildProcess, ms: number): Promise<string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.signalCode;
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const [, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return signal;
}

/** Thaws and kills what runs in the cgroup (the children's own children too), then removes it. */
export async function cleanup(cg: CgroupManager, children: ChildProcess[]): Promise<void> {
  try {
    if (cg.state() === 'frozen') cg.thaw();
    cg.killAll('SIGKILL');
  } catch {
    // the cgroup may never have been created
  }
  for (const child of children) {
    child.kill('SIGKILL');
    await waitExit(child, 5000);
  }
  cg.destroy();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
