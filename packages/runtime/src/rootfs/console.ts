// /dev/console of a terminal container: the pty's slave bound on it, as runc does. The mount point
// is made in the container's /dev without following a symlink of the image at "console", and the
// bind goes from fd to fd: an image whose /dev/console points at a host file (through
// /proc/<pid>/root, say) cannot have the pty mounted over that file (CVE-2025-52565).
import fs from 'node:fs';
import type { SysError } from '../sys/libc.js';
import { bindFdOnFd } from '../sys/mount.js';
import { mkdirAllInRoot, O, openInRoot } from '../sys/openat2.js';

const CONSOLE = 'dev/console';

/** An O_PATH fd of /dev/console, an empty file made if missing; an image's symlink there is refused. */
function consoleMountPoint(rootFd: number): number {
  fs.closeSync(mkdirAllInRoot(rootFd, '/dev'));
  try {
    // O_EXCL: a dangling symlink at the name is not followed to create its target.
    fs.closeSync(openInRoot(rootFd, CONSOLE, O.CREAT | O.EXCL | O.NOFOLLOW | O.RDONLY | O.NOCTTY, 0o666));
  } catch (err) {
    if ((err as SysError).code !== 'EEXIST') throw err;
  }
  const fd = openInRoot(rootFd, CONSOLE, O.PATH | O.NOFOLLOW);
  const stat = fs.fstatSync(fd);
  if (stat.isFile() || stat.isCharacterDevice()) return fd;
  fs.closeSync(fd);
  const kind = stat.isSymbolicLink() ? 'a symlink' : 'neither a file nor a device';
  throw new Error(`/dev/console in the rootfs is ${kind}: the console is not mounted there`);
}

/** Called once "/" is the container's, before anything in it is made read-only. */
export function mountConsole(slaveFd: number): void {
  const rootFd = fs.openSync('/', O.PATH | O.DIRECTORY | O.CLOEXEC);
  try {
    const target = consoleMountPoint(rootFd);
    try {
      bindFdOnFd(slaveFd, target, 'bind the console on /dev/console');
    } finally {
      fs.closeSync(target);
    }
  } finally {
    fs.closeSync(rootFd);
  }
}
