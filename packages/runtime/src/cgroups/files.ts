// Small synchronous helpers for cgroup control files. Every error names the full file path,
// because "EINVAL" alone is useless when a dozen files are written for one container.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Error raised for a cgroup operation; `code` carries the errno name when one caused it. */
export class CgroupError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'CgroupError';
    this.code = code;
  }
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

export function fileExists(dir: string, file: string): boolean {
  return fs.existsSync(path.join(dir, file));
}

/**
 * Writes one value to a control file. A missing file means the controller (or this feature
 * of it) is not available in this cgroup, which is reported as such instead of as ENOENT.
 */
function writeExisting(full: string, value: string | number): void {
  // Never O_CREAT: cgroupfs refuses to create a file with EACCES, which hid a missing one.
  const fd = fs.openSync(full, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
  try {
    fs.writeSync(fd, String(value));
  } finally {
    fs.closeSync(fd);
  }
}

/** The C library's words of a Node fs error ("no such file or directory"), without its code and call. */
function strerror(err: unknown): string {
  const message = (err as Error).message;
  return /^[A-Z0-9]+: (.*?), \w+ '/.exec(message)?.[1] ?? message;
}

/** Moves `pid` into the cgroup at `dir`; a failure is worded as runc words it. */
export function enterCgroup(dir: string, pid: number): void {
  const full = path.join(dir, 'cgroup.procs');
  try {
    writeExisting(full, pid);
  } catch (err) {
    throw new CgroupError(`adding pid ${pid} to cgroups: ${full}: ${strerror(err)}`, errnoCode(err));
  }
}

export function writeCgroupFile(dir: string, file: string, value: string | number): void {
  const full = path.join(dir, file);
  try {
    writeExisting(full, value);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' && fs.existsSync(dir)) {
      throw new CgroupError(`cgroup file ${full} does not exist: the controller or feature is not available on this host`, code);
    }
    throw new CgroupError(`write ${JSON.stringify(String(value))} to ${full}: ${(err as Error).message}`, code);
  }
}

export function readCgroupFile(dir: string, file: string): string {
  const full = path.join(dir, file);
  try {
    return fs.readFileSync(full, 'utf8').trim();
  } catch (err) {
    throw new CgroupError(`read ${full}: ${(err as Error).message}`, errnoCode(err));
  }
}

/** Reads a control file, or returns undefined when it does not exist (optional features). */
export function readOptional(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8').trim();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw new CgroupError(`read ${path.join(dir, file)}: ${(err as Error).message}`, errnoCode(err));
  }
}

/** Parses "key value" lines (memory.stat, cpu.stat, cgroup.events, ...) into numbers. */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) out[key] = parseCgroupNumber(value);
  }
  return out;
}

/** The largest value the kernel reports (2^64-1); JS rounds it, which is fine for "unlimited". */
export const UNLIMITED = 2 ** 64 - 1;

/** Parses a number from a control file, mapping v2's "max" to UNLIMITED. */
export function parseCgroupNumber(value: string): number {
  return value === 'max' ? UNLIMITED : Number(value);
}

/** Reads the pids listed in one cgroup.procs file. */
function readProcs(dir: string): number[] {
  const text = readOptional(dir, 'cgroup.procs') ?? '';
  return text.split('\n').filter((s) => s !== '').map(Number);
}

/** Collects the pids of a cgroup directory and every cgroup below it. */
export function readProcsRecursive(dir: string): number[] {
  const out = readProcs(dir);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return out;
    throw err;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) out.push(...readProcsRecursive(path.join(dir, entry.name)));
  }
  return out;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the (short-lived, sequential) CLI for `ms` milliseconds. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Removes a cgroup directory and its sub-cgroups, deepest first. rmdir fails with EBUSY
 * while exiting tasks are still being torn down, so it is retried for about a second.
 */
export function removeCgroupDir(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw new CgroupError(`read directory ${dir}: ${(err as Error).message}`, errnoCode(err));
  }
  for (const entry of entries) {
    if (entry.isDirectory()) removeCgroupDir(path.join(dir, entry.name));
  }
  let delay = 10;
  for (let attempt = 0; ; attempt++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 12) {
        throw new CgroupError(`remove cgroup ${dir}: ${(err as Error).message}`, code);
      }
      sleepSync(delay);
      delay = Math.min(delay * 2, 160);
    }
  }
}
