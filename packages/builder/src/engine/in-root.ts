// Paths of a build context or a stage's filesystem as the kernel resolves them with that tree as
// "/" (openat2 RESOLVE_IN_ROOT): a symlink on the way, absolute or full of "..", stays inside the
// tree, so that no source of a COPY or a bind mount reaches the host's files.
import fs from 'node:fs';
import path from 'node:path';
import { O, openInRoot } from '@tsrunc/runtime/platform';

/** The kernel's ELOOP limit, for the walk that reproduces its resolution. */
const MAX_SYMLINKS = 40;

/**
 * `rel` resolved inside `root`, relative to it ("" for the root itself); undefined if it does not
 * exist. `visible` says which paths of the root exist for the build: what .dockerignore leaves out
 * of a context is not there, so a symlink that is left out, or one that leads to a path left out,
 * resolves to nothing, as it does in the context BuildKit is sent.
 */
export function resolveInRoot(root: string, rel: string, visible: (rel: string) => boolean = () => true): string | undefined {
  const walked = walk(root, rel, visible);
  // The kernel has the last word: if the tree changed under the walk, the two disagree.
  return walked !== undefined && walked === kernelResolve(root, rel) ? walked : undefined;
}

/** The resolution done name by name, to see every symlink it passes through; ".." in `rel` itself is lexical, as in the kernel's call below. */
function walk(root: string, rel: string, visible: (rel: string) => boolean): string | undefined {
  const pending = path.posix.normalize('/' + rel).split('/').filter((part) => part !== '');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '..') {
      resolved.pop(); // at the top, ".." is the top itself
      continue;
    }
    const here = [...resolved, name].join('/');
    // `resolved` holds only directories seen as such, so the host resolves no symlink of it.
    const stat = fs.lstatSync(path.join(root, here), { throwIfNoEntry: false });
    if (stat === undefined) return undefined;
    if (stat.isSymbolicLink()) {
      if (!visible(here)) return undefined;
      if (++links > MAX_SYMLINKS) return undefined;
      const target = fs.readlinkSync(path.join(root, here));
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((part) => part !== '' && part !== '.'));
      continue;
    }
    if (pending.length > 0 && !stat.isDirectory()) return undefined;
    resolved.push(name);
  }
  // Directories on the way are not asked: one left out may still hold a path taken back with "!".
  const found = resolved.join('/');
  return found === '' || visible(found) ? found : undefined;
}

function kernelResolve(root: string, rel: string): string | undefined {
  const rootFd = fs.openSync(root, O.PATH | O.DIRECTORY);
  try {
    let fd: number;
    try {
      fd = openInRoot(rootFd, path.posix.normalize('/' + rel), O.PATH);
    } catch {
      return undefined;
    }
    try {
      // The kernel's name for what was opened: inside the root, whatever links led there.
      return path.relative(fs.realpathSync(root), fs.readlinkSync(`/proc/self/fd/${fd}`));
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    fs.closeSync(rootFd);
  }
}
