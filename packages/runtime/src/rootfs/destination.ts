// Where a mount of config.json really lands: its destination resolved in the rootfs as the
// container will see it (the image's symlinks followed, never out of the rootfs, dangling ones
// included), checked before anything is created there.
import fs from 'node:fs';
import { O, openInRoot, procFdPath } from '../sys/openat2.js';
import type { MountPlan } from './plan.js';
import { checkProcDestination } from './proc-rules.js';

/** The kernel's limit on symlinks followed in one lookup (ELOOP beyond). */
const MAX_SYMLINKS = 40;

/** The codes of a path that does not (fully) exist: what follows is made by the mount, as written. */
function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The target of `name` in the directory `parent` of the root (a path free of symlinks), if it is a symlink. */
function symlinkTarget(rootFd: number, parent: string[], name: string): string | undefined {
  let dir: number;
  try {
    dir = openInRoot(rootFd, parent.length > 0 ? parent.join('/') : '.', O.PATH | O.DIRECTORY);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  try {
    const entry = `${procFdPath(dir)}/${name}`;
    return fs.lstatSync(entry).isSymbolicLink() ? fs.readlinkSync(entry) : undefined;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  } finally {
    fs.closeSync(dir);
  }
}

/**
 * The path in the container of `destination` after every symlink on it, resolved one component at
 * a time as the kernel does below the rootfs ("/" and ".." stop at the root). A dangling symlink is
 * followed to where the mount would create its target; what does not exist is taken as written.
 * Below /proc nothing more is followed: procfs' own links stay inside it, and its magic links
 * (fd/N, root, cwd) name things of another root. Everything there is judged by its path.
 */
export function resolveMountDestination(rootFd: number, destination: string): string {
  const resolved: string[] = [];
  const pending = destination.split('/');
  let followed = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      resolved.pop();
      continue;
    }
    const target = resolved[0] === 'proc' ? undefined : symlinkTarget(rootFd, resolved, name);
    if (target === undefined) {
      resolved.push(name);
      continue;
    }
    if (++followed > MAX_SYMLINKS) throw new Error(`mount on ${destination}: too many levels of symlinks in the rootfs`);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/'));
  }
  return '/' + resolved.join('/');
}

export function checkMountDestination(rootFd: number, m: MountPlan): void {
  const resolved = resolveMountDestination(rootFd, m.destination);
  checkProcDestination(m, resolved);
  // proc and sysfs carry the kernel's controls: they go exactly where config.json says, never
  // where a symlink of the image would move them (runc: "must be mounted on ordinary directory").
  if ((m.type === 'proc' || m.type === 'sysfs') && resolved !== m.destination) {
    throw new Error(`mount ${m.type} on ${m.destination}: the rootfs has a symlink there (to ${resolved}); ${m.type} is mounted only on an ordinary directory`);
  }
}
