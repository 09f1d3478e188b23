// What /proc says of a process: whether it lives, and its start time, which together with
// the pid identifies it across pid reuse.
import fs from 'node:fs';

export interface ProcStat {
  state: string;
  ppid: number;
  startTime: string;
}

/** A process told apart from later ones that get the same pid. */
export interface ProcessId {
  pid: number;
  /** /proc/PID/stat field 22, in clock ticks since boot. */
  startTime: string;
}

/** Parses /proc/PID/stat; undefined when the process does not exist. */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', ppid: Number(fields[1]), startTime: fields[19] ?? '' };
}

/** True while PID is the same process (same start time) and not a zombie. */
export function isRunning(pid: number, startTime: string): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/** This process, as a ProcessId. */
export function selfId(): ProcessId {
  return { pid: process.pid, startTime: procStat(process.pid)?.startTime ?? '' };
}

/** Waits until the process is gone or a zombie, polling; false on timeout. */
export function waitGone(pid: number, startTime: string, timeoutMs: number): boolean {
  const deadline = Date.now() + timeoutMs;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (isRunning(pid, startTime)) {
    if (Date.now() > deadline) return false;
    Atomics.wait(cell, 0, 0, 2);
  }
  return true;
}
