// WORKDIR creates its directory, as BuildKit does (mkdir -p, mode 0755, owned by the USER of the
// moment): the directories the image lacks become a layer; none lacking, no layer.
import fs from 'node:fs';
import path from 'node:path';

const MAX_SYMLINKS = 40;

/**
 * `dir` (absolute, clean) resolved inside `rootfs` as the container would see it: symlinks in the
 * image are followed, with absolute targets taken from the rootfs and `..` stopping at its top.
 * Returns the resolved existing prefix and the components below it that do not exist yet.
 */
function resolveInRoot(rootfs: string, dir: string): { existing: string[]; missing: string[] } {
  const pending = dir.split('/').filter((c) => c !== '' && c !== '.');
  const existing: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '..') {
      existing.pop();
      continue;
    }
    const stat = fs.lstatSync(path.join(rootfs, ...existing, name), { throwIfNoEntry: false });
    if (!stat) {
      const missing = [name, ...pending];
      if (missing.includes('..')) throw new Error(`WORKDIR ${dir}: a symbolic link leads through a missing directory to ".."`);
      return { existing, missing };
    }
    if (stat.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new Error(`WORKDIR ${dir}: too many levels of symbolic links`);
      const target = fs.readlinkSync(path.join(rootfs, ...existing, name));
      if (target.startsWith('/')) existing.length = 0;
      pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
      continue;
    }
    if (!stat.isDirectory()) throw new Error(`WORKDIR ${dir}: ${['', ...existing, name].join('/')} is not a directory`);
    existing.push(name);
  }
  return { existing, missing: [] };
}

/**
 * Lays out under `staging` the directories WORKDIR must create in `rootfs`, and their existing
 * parents with the image's own metadata (a layer entry for a parent replaces it when extracted).
 * Returns false when the directory already exists: the step then has no layer.
 */
export function stageWorkdir(rootfs: string, staging: string, dir: string, owner: { uid: number; gid: number }): boolean {
  const { existing, missing } = resolveInRoot(rootfs, dir);
  if (missing.length === 0) return false;
  for (let depth = 1; depth <= existing.length; depth++) {
    const rel = existing.slice(0, depth);
    const stat = fs.statSync(path.join(rootfs, ...rel));
    const target = path.join(staging, ...rel);
    fs.mkdirSync(target);
    fs.chmodSync(target, stat.mode & 0o7777);
    fs.chownSync(target, stat.uid, stat.gid);
    fs.utimesSync(target, stat.atime, stat.mtime);
  }
  for (let depth = 1; depth <= missing.length; depth++) {
    const target = path.join(staging, ...existing, ...missing.slice(0, depth));
    fs.mkdirSync(target, { mode: 0o755 });
    fs.chmodSync(target, 0o755);
    fs.chownSync(target, owner.uid, owner.gid);
  }
  return true;
}
