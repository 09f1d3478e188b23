// The build context as a RUN bind mount shows it: as BuildKit sends it, without what .dockerignore
// leaves out, so that a step can read nothing its cache key does not count. Where nothing below
// the bound path is ignored, the path itself; else a read-only overlay whose top layer holds a
// whiteout for each ignored path, or, where overlayfs cannot mount, a copy without them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mknod } from '../image/xattr.js';
import { mountReadOnlyOverlay, unmount } from '../run/mount.js';
import type { IgnoreMatcher } from './ignore.js';

const S_IFCHR = 0o020000;

export interface ContextView {
  path: string;
  release(): void;
}

/** `rel`: the bound path, relative to the context root `contextDir`; `dir`: scratch space of the step's own. */
export function contextView(contextDir: string, rel: string, ignore: IgnoreMatcher, dir: string): ContextView {
  const source = path.join(contextDir, rel);
  if (rel !== '' && ignore.ignores(rel)) throw new Error(`--mount=type=bind: ${rel} does not exist in the build context (excluded by .dockerignore)`);
  const hidden = ignoredBelow(contextDir, rel, ignore);
  if (hidden.length === 0) return { path: source, release: () => {} };
  const mask = path.join(dir, 'mask');
  for (const rel of hidden) {
    fs.mkdirSync(path.dirname(path.join(mask, rel)), { recursive: true });
    mknod(path.join(mask, rel), S_IFCHR, 0, 0);
  }
  const merged = path.join(dir, 'merged');
  fs.mkdirSync(merged);
  try {
    mountReadOnlyOverlay([mask, source], merged);
    return { path: merged, release: () => unmount(merged) };
  } catch {
    return filteredCopy(source, hidden, path.join(dir, 'copy'));
  }
}

/** The ignored paths below `rel`, relative to it; an ignored directory is listed, not entered. */
function ignoredBelow(contextDir: string, rel: string, ignore: IgnoreMatcher): string[] {
  const out: string[] = [];
  const visit = (below: string): void => {
    const full = path.join(contextDir, rel, below);
    if (!fs.lstatSync(full).isDirectory()) return;
    for (const name of fs.readdirSync(full)) {
      const child = below ? `${below}/${name}` : name;
      if (ignore.ignores(rel ? `${rel}/${child}` : child)) out.push(child);
      else visit(child);
    }
  };
  visit('');
  return out;
}

function filteredCopy(source: string, hidden: string[], copy: string): ContextView {
  const r = spawnSync('cp', ['-a', '--no-target-directory', source, copy], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`copy of the build context for a bind mount: ${r.stderr.trim()}`);
  for (const rel of hidden) fs.rmSync(path.join(copy, rel), { recursive: true, force: true });
  return { path: copy, release: () => {} };
}
