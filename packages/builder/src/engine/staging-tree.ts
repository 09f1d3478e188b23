// The tree a COPY or ADD step lays out, which becomes its layer. Its sources put symlinks in it
// that aim anywhere (an absolute link to a host directory is an ordinary thing to copy), so no
// write into it may follow a name by the host's rules. Directories are resolved inside the tree,
// as the kernel does with the tree as "/" (openat2 RESOLVE_IN_ROOT): a symlink on the way is
// followed the way the image will see it, never out of it, as BuildKit's copy follows the
// destination's symlinks inside its root. A file or symlink is made through its parent's
// descriptor and never follows its own name: a symlink standing there is replaced, not written
// through. The only way into a staging tree is this class.
import fs from 'node:fs';
import path from 'node:path';
import type { SysError } from '@tsrunc/runtime/sys/libc';
import { mkdirAllInRoot, O, procFdPath } from '@tsrunc/runtime/sys/openat2';

export interface NodeMetadata {
  uid: number;
  gid: number;
  /** Permission bits (with setuid/setgid/sticky); not applied to symlinks, which have none. */
  mode: number;
  /** Kept as the source had them; left to the clock where absent. */
  times?: { atime: Date; mtime: Date };
}

export class StagingTree {
  private constructor(private readonly rootFd: number) {}

  /** Runs `fill` with the tree at `dir` (an existing directory), released after it, even if it throws. */
  static async with<T>(dir: string, fill: (tree: StagingTree) => T | Promise<T>): Promise<T> {
    const tree = new StagingTree(fs.openSync(dir, O.PATH | O.DIRECTORY | O.CLOEXEC));
    try {
      return await fill(tree);
    } finally {
      fs.closeSync(tree.rootFd);
    }
  }

  /**
   * The directory `rel` (an image path), made where missing with its parents, symlinks on the way
   * followed inside the tree. `fill` runs before the metadata is set, so that what it adds below
   * does not change the directory's times again. A link leading nowhere inside the tree is an error.
   */
  directory(rel: string, meta: NodeMetadata, fill: () => void): void {
    const fd = this.mkdirp(rel);
    try {
      fill();
      // The directory itself, through the descriptor: whatever its name leads to now.
      const self = procFdPath(fd);
      fs.chownSync(self, meta.uid, meta.gid);
      fs.chmodSync(self, meta.mode);
      if (meta.times) fs.utimesSync(self, meta.times.atime, meta.times.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The regular file `rel` with the bytes of the host file `from`. */
  copyFile(rel: string, from: string, meta: NodeMetadata): void {
    this.withSlot(rel, (at) => {
      // COPYFILE_EXCL opens the new name with O_CREAT|O_EXCL, which never follows a symlink.
      fs.copyFileSync(from, at, fs.constants.COPYFILE_EXCL);
      this.applyToFile(at, meta);
    });
  }

  /** The regular file `rel` holding `content`. */
  writeFile(rel: string, content: string | Buffer, meta: NodeMetadata): void {
    this.withSlot(rel, (at) => {
      const fd = fs.openSync(at, O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW | O.CLOEXEC, 0o600);
      try {
        fs.writeFileSync(fd, content);
      } finally {
        fs.closeSync(fd);
      }
      this.applyToFile(at, meta);
    });
  }

  /** The symlink `rel` -> `target`, stored as written: it is only ever resolved inside the image. */
  symlink(rel: string, target: string, meta: NodeMetadata): void {
    this.withSlot(rel, (at) => {
      fs.symlinkSync(target, at);
      // l-calls act on the link itself; the parent is pinned by its descriptor.
      fs.lchownSync(at, meta.uid, meta.gid);
      if (meta.times) fs.lutimesSync(at, meta.times.atime, meta.times.mtime);
    });
  }

  /**
   * The directory `rel`, made like directory() does, held open while `use` writes below it
   * through the returned path (for a tool that takes a path, such as the archive extractor).
   */
  async below<T>(rel: string, use: (dir: string) => Promise<T>): Promise<T> {
    const fd = this.mkdirp(rel);
    try {
      return await use(procFdPath(fd));
    } finally {
      fs.closeSync(fd);
    }
  }

  private mkdirp(rel: string): number {
    try {
      return mkdirAllInRoot(this.rootFd, rel);
    } catch (err) {
      const code = (err as SysError).code ?? (err as Error).message;
      throw new Error(`destination ${rel}: cannot be a directory in the layer: something in the way is not a directory, or is a symbolic link leading to none inside the layer (${code})`);
    }
  }

  /**
   * Frees the last component of `rel` for a new file or symlink, as BuildKit does: what stands
   * there is removed (a symlink as a link, never what it points to), unless it is a directory.
   */
  private withSlot(rel: string, make: (at: string) => void): void {
    const name = path.posix.basename(path.posix.normalize('/' + rel));
    if (name === '') throw new Error(`destination ${rel}: the layer's root cannot be replaced with a file`);
    const parentFd = this.mkdirp(path.posix.dirname(path.posix.normalize('/' + rel)));
    try {
      // One name below a pinned directory: no other name of the path is resolved again.
      const at = `${procFdPath(parentFd)}/${name}`;
      const existing = fs.lstatSync(at, { throwIfNoEntry: false });
      if (existing?.isDirectory()) throw new Error(`destination ${rel}: cannot replace a directory with a file`);
      if (existing) fs.unlinkSync(at);
      make(at);
    } finally {
      fs.closeSync(parentFd);
    }
  }

  /** chown before chmod: chown clears setuid and setgid bits, which chmod then sets. */
  private applyToFile(at: string, meta: NodeMetadata): void {
    const fd = fs.openSync(at, O.RDONLY | O.NOFOLLOW | O.CLOEXEC);
    try {
      fs.fchownSync(fd, meta.uid, meta.gid);
      fs.fchmodSync(fd, meta.mode);
      if (meta.times) fs.futimesSync(fd, meta.times.atime, meta.times.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }
}
