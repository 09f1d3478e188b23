// The copy snapshot's layer: what a step changed in its copy of the parent, written in the form
// of an overlay upper directory (changed and new entries with their parent directories, a 0/0
// character device for each removed entry), so that one layer writer serves both snapshots.
// Entries are compared by type, mode, owner, size, mtime and device number, as BuildKit's
// walking differ does where it cannot read an overlay's upper directory.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

type Stat = fs.BigIntStats;

const sameNode = (a: Stat, b: Stat) => a.mode === b.mode && a.uid === b.uid && a.gid === b.gid
  && a.size === b.size && a.mtimeNs === b.mtimeNs && a.rdev === b.rdev;

const isDirectory = (stat: Stat) => (Number(stat.mode) & fs.constants.S_IFMT) === fs.constants.S_IFDIR;

function run(command: string, args: string[], cwd?: string): void {
  const r = spawnSync(command, args, { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  if (r.status !== 0) throw new Error(`copy snapshot: ${command}: ${r.stderr.trim()}`);
}

const setTimes = (dir: string, stat: Stat) => fs.utimesSync(dir, Number(stat.atimeMs) / 1000, Number(stat.mtimeMs) / 1000);

/** A directory of `out` standing for one of the changed tree: same mode and owner (times at the end). */
function directoryEntry(to: string, stat: Stat): void {
  fs.mkdirSync(to);
  fs.chmodSync(to, Number(stat.mode) & 0o7777);
  fs.chownSync(to, Number(stat.uid), Number(stat.gid));
}

/** Directories laid out and removals marked as the walk goes; other entries copied at the end, by cp -a (xattrs and all). */
function walk(base: string, changed: string, out: string, rel: string, copies: string[], dirs: [string, Stat][]): boolean {
  let differs = false;
  const here = new Set(fs.readdirSync(path.join(changed, rel)));
  for (const name of fs.readdirSync(path.join(base, rel))) {
    if (here.has(name)) continue;
    run('mknod', [path.join(out, rel, name), 'c', '0', '0']);
    differs = true;
  }
  for (const name of [...here].sort()) {
    const child = path.join(rel, name);
    const now = fs.lstatSync(path.join(changed, child), { bigint: true });
    const before = fs.lstatSync(path.join(base, child), { bigint: true, throwIfNoEntry: false });
    if (before && isDirectory(now) && isDirectory(before)) {
      // Laid out first, dropped again if nothing below it (nor itself) changed.
      directoryEntry(path.join(out, child), now);
      if (walk(base, changed, out, child, copies, dirs) || !sameNode(now, before)) {
        dirs.push([path.join(out, child), now]);
        differs = true;
      } else {
        fs.rmdirSync(path.join(out, child));
      }
    } else if (!before || !sameNode(now, before)) {
      copies.push(child);
      differs = true;
    }
  }
  return differs;
}

/** Writes into `out` (an empty directory) the difference from `base` to `changed`. */
export function writeTreeDiff(base: string, changed: string, out: string): void {
  const copies: string[] = [];
  const dirs: [string, Stat][] = [];
  walk(base, changed, out, '', copies, dirs);
  // Parents are in `out` already, so cp only adds the entries themselves.
  for (let i = 0; i < copies.length; i += 500) {
    run('cp', ['-a', '--parents', '--no-dereference', '-t', out, '--', ...copies.slice(i, i + 500)], changed);
  }
  // Last: adding entries to a directory moved its times.
  for (const [dir, stat] of dirs) setTimes(dir, stat);
}
