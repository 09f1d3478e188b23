// Paths of a build context or a stage's filesystem as the kernel resolves them with that tree as
// "/" (openat2 RESOLVE_IN_ROOT): a symlink on the way, absolute or full of "..", stays inside the
// tree, so that no source of a COPY or a bind mount reaches the host's files.
import fs from 'node:fs';
import path from 'node:path';
import { O, openInRoot } from '@tsrunc/runtime/sys/openat2';

/** `rel` resolved inside `root`, relative to it ("" for the root itself); undefined if it does not exist. */
export function resolveInRoot(root: string, rel: string): string | undefined {
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
