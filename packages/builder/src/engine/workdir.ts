// WORKDIR creates its directory, as BuildKit does (mkdir -p, mode 0755, owned by the USER of the
// moment): the directories the image lacks become a layer; none lacking, no layer.
import fs from 'node:fs';
import path from 'node:path';
import { walkInRoot, type Walk } from './in-root.js';

/**
 * `dir` (absolute, clean) resolved inside `rootfs` as the container would see it (walkInRoot):
 * the resolved directories that exist, and the names below them that do not exist yet.
 */
function splitAtMissing(rootfs: string, dir: string): Walk {
  const walked = walkInRoot(rootfs, dir);
  if ('blocked' in walked) {
    throw new Error(walked.blocked === 'symlink loop' ? `WORKDIR ${dir}: too many levels of symbolic links` : `WORKDIR ${dir}: /${walked.at} is not a directory`);
  }
  if (walked.missing.includes('..')) throw new Error(`WORKDIR ${dir}: a symbolic link leads through a missing directory to ".."`);
  if (walked.missing.length === 0 && !fs.lstatSync(path.join(rootfs, ...walked.existing)).isDirectory()) {
    throw new Error(`WORKDIR ${dir}: /${walked.existing.join('/')} is not a directory`);
  }
  return walked;
}

/**
 * Lays out under `staging` the directories WORKDIR must create in `rootfs`, and their existing
 * parents with the image's own metadata (a layer entry for a parent replaces it when extracted).
 * Returns false when the directory already exists: the step then has no layer.
 */
export function stageWorkdir(rootfs: string, staging: string, dir: string, owner: { uid: number; gid: number }): boolean {
  const { existing, missing } = splitAtMissing(rootfs, dir);
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
