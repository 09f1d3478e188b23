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
export function existingPathInRoot(root: string, rel: string, visible: (rel: string) => boolean = () => true): string | undefined {
  const walked = walkInRoot(root, rel, visible);
  if ('blocked' in walked || walked.missing.length > 0) return undefined;
  // Directories on the way are not asked: one left out may still hold a path taken back with "!".
  const found = walked.existing.join('/');
  if (found !== '' && !visible(found)) return undefined;
  // The kernel has the last word: if the tree changed under the walk, the two disagree.
  return found === kernelResolve(root, rel) ? found : undefined;
}

/** Where a walk stopped: on a left-out symlink, past the kernel's ELOOP limit, or at a file with a name after it. */
export interface BlockedWalk {
  blocked: 'hidden' | 'symlink loop' | 'not a directory';
  /** The path, relative to the root, where it stopped. */
  at: string;
}

export interface Walk {
  /** The names that exist, every symlink resolved: directories, then maybe a last non-directory. */
  existing: string[];
  /** From the first name that does not exist on (empty when all of it exists), as written. */
  missing: string[];
}

/**
 * `rel` resolved name by name inside `root`, as the kernel resolves it with the root as "/": every
 * symlink followed (an absolute target from the root, ".." stopping at its top), so that no
 * symlink of the host is ever resolved. ".." in `rel` itself is lexical, as in openat2's call.
 */
export function walkInRoot(root: string, rel: string, visible: (rel: string) => boolean = () => true): Walk | BlockedWalk {
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
    if (stat === undefined) return { existing: resolved, missing: [name, ...pending] };
    if (stat.isSymbolicLink()) {
      if (!visible(here)) return { blocked: 'hidden', at: here };
      if (++links > MAX_SYMLINKS) return { blocked: 'symlink loop', at: here };
      const target = fs.readlinkSync(path.join(root, here));
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((part) => part !== '' && part !== '.'));
      continue;
    }
    if (pending.length > 0 && !stat.isDirectory()) return { blocked: 'not a directory', at: here };
    resolved.push(name);
  }
  return { existing: resolved, missing: [] };
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
