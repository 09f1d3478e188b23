// A name for this process that no other process, now or later, shares: its pid and its start time
// (/proc/<pid>/stat, in clock ticks since boot). Files a process leaves in the store carry it, so a
// later run can tell one a live process holds from one a killed process left, and a reused pid
// does not make a dead process' files look alive.
import fs from 'node:fs';
import path from 'node:path';

/** The start time of `pid`, or undefined when no such process runs. */
function startTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

let own: string | undefined;

/** "<pid>-<start time>" of this process. */
export function processTag(): string {
  own ??= `${process.pid}-${startTime(process.pid)}`;
  return own;
}

const TAG_RE = /^(\d+)-(\d+)(?:-|$)/;

/** Whether the process a name begins with (a tag, as processTag() makes it) still runs. */
export function tagIsLive(name: string): boolean {
  const m = TAG_RE.exec(name);
  return m !== null && startTime(Number(m[1])) === m[2];
}

/**
 * Removes the entries of `dir` named `prefix` + a tag of a process that no longer runs (what a
 * killed process was writing); returns their paths.
 */
export function sweepDead(dir: string, prefix = ''): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const dead = names.filter((name) => name.startsWith(prefix) && TAG_RE.test(name.slice(prefix.length)) && !tagIsLive(name.slice(prefix.length)));
  for (const name of dead) fs.rmSync(path.join(dir, name), { force: true, recursive: true });
  return dead.map((name) => path.join(dir, name));
}

/** The temp name writeFileAtomic gives a file it replaces for a writer tag: ".NAME.<tag>-<random>.tmp". */
const ATOMIC_TEMP_RE = /^\..+\.(\d+-\d+)-[0-9a-f]+\.tmp$/;

/** Removes the temp files of `dir` that writeFileAtomic was writing for processes that no longer run; returns their paths. */
export function sweepDeadTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const dead = names.filter((name) => {
    const tag = ATOMIC_TEMP_RE.exec(name)?.[1];
    return tag !== undefined && !tagIsLive(tag);
  });
  for (const name of dead) fs.rmSync(path.join(dir, name), { force: true });
  return dead.map((name) => path.join(dir, name));
}
