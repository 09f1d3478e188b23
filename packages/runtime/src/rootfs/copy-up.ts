// runc's "tmpcopyup" mount option (podman gives it to the tmpfs of --tmpfs and of --read-only's
// /tmp, /run, /var/tmp): the new tmpfs starts with what the image holds at its destination.
// The image's tree is read through an fd opened before the tmpfs covered it, one name at a time
// and never through a symlink, so a symlink in the image cannot make the copy read the host.
import fs from 'node:fs';
import { O, openInRoot, procFdPath } from '../sys/openat2.js';

const CHUNK = 64 * 1024;

function copyFile(fromFd: number, toFd: number): void {
  const buffer = Buffer.alloc(CHUNK);
  for (let n = fs.readSync(fromFd, buffer, 0, CHUNK, null); n > 0; n = fs.readSync(fromFd, buffer, 0, CHUNK, null)) {
    let written = 0;
    while (written < n) written += fs.writeSync(toFd, buffer, written, n - written);
  }
}

/**
 * Copies the entries of the directory `fromFd` into the directory `toFd`, recursively, keeping
 * modes, owners and symlinks. `where` names the directory in errors.
 */
export function copyTree(fromFd: number, toFd: number, where: string): void {
  for (const name of fs.readdirSync(procFdPath(fromFd))) {
    const from = `${procFdPath(fromFd)}/${name}`;
    const to = `${procFdPath(toFd)}/${name}`;
    const st = fs.lstatSync(from);
    if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(from), to);
    } else if (st.isDirectory() || st.isFile()) {
      const source = openInRoot(fromFd, name, (st.isDirectory() ? O.DIRECTORY : 0) | O.RDONLY | O.NOFOLLOW);
      try {
        if (st.isDirectory()) {
          fs.mkdirSync(to);
          const target = openInRoot(toFd, name, O.DIRECTORY | O.RDONLY | O.NOFOLLOW);
          try {
            copyTree(source, target, `${where}/${name}`);
          } finally {
            fs.closeSync(target);
          }
        } else {
          const target = fs.openSync(to, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
          try {
            copyFile(source, target);
          } finally {
            fs.closeSync(target);
          }
        }
      } finally {
        fs.closeSync(source);
      }
    } else {
      throw new Error(`tmpcopyup ${where}/${name}: only directories, regular files and symlinks are copied`);
    }
    // Owner before mode: chown clears the set-id bits.
    fs.lchownSync(to, st.uid, st.gid);
    if (!st.isSymbolicLink()) fs.chmodSync(to, st.mode & 0o7777);
  }
}
