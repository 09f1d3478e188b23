// The tree a COPY or ADD step lays out, which becomes its layer. Its sources put symlinks in it
// that aim anywhere (an absolute link to a host directory is an ordinary thing to copy), so no
// write into it may follow a name by the host's rules. Directories are resolved inside the tree,
// as the kernel does with the tree as "/" (openat2 RESOLVE_IN_ROOT): a symlink on the way is
// followed the way the image will see it, never out of it, as BuildKit's copy follows the
// destination's symlinks inside its root. A file or symlink is made through its parent's
// descriptor and never follows its own name: a symlink standing there is replaced, not written
// through. The only way into a staging tree is this class.
//
// A layer entry for a directory replaces that directory's metadata when the layer is applied. The
// directories a step only passes through (the parents of a destination, an existing destination
// a directory's contents go into) keep what the image below has, as in BuildKit, whose layer is a
// diff in which such a directory is unchanged: their entries carry the lower image's owner, mode
// and times, and only the directories the step itself makes or copies carry the step's. Those it
// makes on the way to a destination take the step's owner (--chown) and --chmod's mode, else
// 0755, as BuildKit's copy makes them.
//
// A destination is resolved in the image, not only in the tree: a directory of the lower image
// that a symlink leads to (/var/run -> /run) is where the copy goes, as BuildKit follows the
// destination's symlinks in its root; the layer never shadows the link with a directory.
import fs from 'node:fs';
import path from 'node:path';
import type { SysError } from '@tsrunc/runtime/platform';
import { mkdirAllInRoot, O, procFdPath } from '@tsrunc/runtime/platform';
import { recordsOwnMtime } from '../image/layer-writer.js';
import { listXattrs } from '../image/xattr.js';
import { existingPathInRoot } from './in-root.js';
import type { OriginFile } from './overlay-origin.js';

export interface NodeMetadata {
  uid: number;
  gid: number;
  /** Permission bits (with setuid/setgid/sticky); not applied to symlinks, which have none. */
  mode: number;
  /** Kept as the source had them; left to the clock where absent. */
  times?: { atime: Date; mtime: Date };
}

/** An image path as the tree's relative key: no leading or trailing "/", "" for the root. */
const treeKey = (rel: string) => path.posix.normalize('/' + rel).slice(1).replace(/\/+$/, '');

export class StagingTree {
  /** Directories whose metadata the step sets (treeKey); the others take the lower image's. */
  private readonly own = new Set<string>();
  /** What the directories made on the way to a destination get. */
  private madeMeta: NodeMetadata = { uid: 0, gid: 0, mode: 0o755 };
  /** Image paths already resolved through the lower image's symlinks (treeKey -> treeKey). */
  private readonly resolved = new Map<string, string>();
  /**
   * The directories directory() holds open while it fills them (resolved treeKey -> O_PATH fd):
   * a file made in one is a name below that descriptor, its path not resolved again.
   */
  private readonly held = new Map<string, number>();

  /** The inodes of the files linked into the tree: each only once, so that the layer records no hard link a copy would not make. */
  private readonly linked = new Set<bigint>();

  private constructor(private readonly dir: string, private readonly rootFd: number, private readonly lower: string | undefined,
    private readonly sourceDateEpoch: number | undefined) {}

  /**
   * Runs `fill` with the tree at `dir` (an existing directory), released after it, even if it
   * throws. `lower` is the image's filesystem below the step (flattened, read only), if any;
   * `sourceDateEpoch`, the build's, which the layer's times are clamped to.
   */
  static async with<T>(dir: string, fill: (tree: StagingTree) => T | Promise<T>, options: { lower?: string; sourceDateEpoch?: number } = {}): Promise<T> {
    const tree = new StagingTree(dir, fs.openSync(dir, O.PATH | O.DIRECTORY | O.CLOEXEC), options.lower, options.sourceDateEpoch);
    try {
      const result = await fill(tree);
      tree.keepLowerMetadata();
      return result;
    } finally {
      fs.closeSync(tree.rootFd);
    }
  }

  /**
   * Whether `rel` is a directory in the image once this layer is on it: in the tree, or else in
   * the lower image (symlinks followed inside it). Returns the path to write below it (a symlink
   * in the image replaced by what it leads to, so that the layer does not shadow the link).
   */
  existingDirectory(rel: string): string | undefined {
    const key = treeKey(rel);
    if (this.realDirectories(this.dir, key)) return '/' + key;
    if (this.lower === undefined) return undefined;
    const found = existingPathInRoot(this.lower, key);
    if (found === undefined || !fs.lstatSync(path.join(this.lower, found)).isDirectory()) return undefined;
    return '/' + found;
  }

  /** The owner and mode of the directories the step makes on the way to its destinations. */
  makeDirectoriesAs(meta: NodeMetadata): void {
    this.madeMeta = meta;
  }

  /** Marks `rel` as a directory whose metadata the step set itself (an archive's directory entry). */
  ownMetadata(rel: string): void {
    this.own.add(treeKey(rel));
  }

  /**
   * The directory `rel` (an image path), made where missing with its parents, symlinks on the way
   * followed inside the tree. `fill` runs before the metadata is set, so that what it adds below
   * does not change the directory's times again. A link leading nowhere inside the tree is an error.
   * Without `meta` the directory keeps what it has in the lower image (or the defaults of a new one).
   */
  directory(rel: string, meta: NodeMetadata | undefined, fill: () => void): void {
    const key = this.inImage(rel);
    const fd = this.mkdirp(key);
    const outer = this.held.get(key);
    this.held.set(key, fd);
    try {
      fill();
      if (meta === undefined) return;
      this.own.add(key);
      // The directory itself, through the descriptor: whatever its name leads to now.
      const self = procFdPath(fd);
      fs.chownSync(self, meta.uid, meta.gid);
      fs.chmodSync(self, meta.mode);
      if (meta.times) fs.utimesSync(self, meta.times.atime, meta.times.mtime);
    } finally {
      if (outer === undefined) this.held.delete(key);
      else this.held.set(key, outer);
      fs.closeSync(fd);
    }
  }

  /**
   * The regular file `rel` with the bytes of the host file `from` (never read through a symlink).
   * Where `origin` (the file `from` shows, in a layer's snapshot) already has `meta` and is all
   * the layer will record of it, it is linked, not copied: its bytes are neither read nor written.
   */
  copyFile(rel: string, from: string, meta: NodeMetadata, origin?: OriginFile): void {
    const link = origin !== undefined && this.linkable(origin, meta);
    this.withSlot(rel, (at) => {
      if (link && linkFile(origin.path, at)) {
        this.linked.add(origin.stat.ino);
        return;
      }
      const source = fs.openSync(from, O.RDONLY | O.NOFOLLOW | O.CLOEXEC);
      try {
        this.makeFile(at, meta, (fd) => copyBytes(source, fd));
      } finally {
        fs.closeSync(source);
      }
    });
  }

  /**
   * Whether `origin` is, to the layer and to the snapshot the tree may become, the file a copy
   * with `meta` would make: same owner, mode and whole-second mtime that SOURCE_DATE_EPOCH leaves
   * as it is (so settling the tree changes nothing of it), no xattr (a copy carries none), and not
   * yet in the tree.
   */
  private linkable(origin: OriginFile, meta: NodeMetadata): boolean {
    const { stat } = origin;
    return meta.times !== undefined && BigInt(meta.times.mtime.getTime()) * 1_000_000n === stat.mtimeNs && recordsOwnMtime(stat, this.sourceDateEpoch)
      && stat.uid === BigInt(meta.uid) && stat.gid === BigInt(meta.gid) && (stat.mode & 0o7777n) === BigInt(meta.mode)
      && !this.linked.has(stat.ino) && listXattrs(origin.path).length === 0;
  }

  /** The regular file `rel` holding `content`. */
  writeFile(rel: string, content: string | Buffer, meta: NodeMetadata): void {
    this.withSlot(rel, (at) => this.makeFile(at, meta, (fd) => fs.writeFileSync(fd, content)));
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
    const fd = this.mkdirp(this.inImage(rel));
    try {
      return await use(procFdPath(fd));
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * `rel` as the image resolves it: its longest leading part that the lower image has as a
   * directory (symlinks followed inside it) replaced by where that is, unless the tree already
   * has a real directory there.
   */
  private inImage(rel: string): string {
    const key = treeKey(rel);
    const lower = this.lower;
    if (lower === undefined || key === '') return key;
    const known = this.resolved.get(key);
    if (known !== undefined) return known;
    const parts = key.split('/');
    let result = key;
    for (let n = parts.length; n > 0; n--) {
      const prefix = parts.slice(0, n).join('/');
      if (this.realDirectories(this.dir, prefix)) break;
      const found = existingPathInRoot(lower, prefix);
      if (found !== undefined && fs.lstatSync(path.join(lower, found)).isDirectory()) {
        result = [found, ...parts.slice(n)].filter((p) => p !== '').join('/');
        break;
      }
    }
    this.resolved.set(key, result);
    return result;
  }

  /**
   * The directory at `key` (resolved by inImage), made with its parents where missing: those the
   * tree lacks and the lower image has no directory at get the step's owner and mode.
   */
  private mkdirp(key: string): number {
    const parts = key === '' ? [] : key.split('/');
    const made: string[] = [];
    for (let n = 1, parentReal = true; n <= parts.length && parentReal; n++) {
      const prefix = parts.slice(0, n).join('/');
      if (this.realDirectories(this.dir, prefix)) continue;
      // Below a real directory, lstat follows nothing. Anything standing there (a symlink this
      // step copied) is left to mkdirAllInRoot, which follows it inside the tree.
      parentReal = made.length > 0 || !fs.lstatSync(path.join(this.dir, prefix), { throwIfNoEntry: false });
      if (parentReal && !(this.lower !== undefined && this.realDirectories(this.lower, prefix))) made.push(prefix);
    }
    const fd = this.mkdirpInRoot(key);
    for (const dir of made) {
      this.own.add(dir);
      const madeFd = this.mkdirpInRoot(dir);
      try {
        const self = procFdPath(madeFd);
        fs.chownSync(self, this.madeMeta.uid, this.madeMeta.gid);
        fs.chmodSync(self, this.madeMeta.mode);
      } finally {
        fs.closeSync(madeFd);
      }
    }
    return fd;
  }

  private mkdirpInRoot(rel: string): number {
    try {
      return mkdirAllInRoot(this.rootFd, rel);
    } catch (err) {
      const code = (err as SysError).code ?? (err as Error).message;
      throw new Error(`destination /${treeKey(rel)}: cannot be a directory in the layer: something in the way is not a directory, or is a symbolic link leading to none inside the layer (${code})`);
    }
  }

  /**
   * Frees the last component of `rel` for a new file or symlink, as BuildKit does: what stands
   * there is removed (a symlink as a link, never what it points to), unless it is a directory.
   */
  private withSlot(rel: string, make: (at: string) => void): void {
    const name = path.posix.basename(path.posix.normalize('/' + rel));
    if (name === '') throw new Error(`destination ${rel}: the layer's root cannot be replaced with a file`);
    const parentKey = this.inImage(path.posix.dirname(path.posix.normalize('/' + rel)));
    const held = this.held.get(parentKey);
    const parentFd = held ?? this.mkdirp(parentKey);
    try {
      // One name below a pinned directory: no other name of the path is resolved again.
      const at = `${procFdPath(parentFd)}/${name}`;
      try {
        // The name is usually free: made at once, it costs no lookup first.
        make(at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (fs.lstatSync(at).isDirectory()) throw new Error(`destination ${rel}: cannot replace a directory with a file`);
        fs.unlinkSync(at);
        make(at);
      }
    } finally {
      if (held === undefined) fs.closeSync(parentFd);
    }
  }

  /** Whether every component of `key` below `root` is a directory, none a symlink (so the host follows none). */
  private realDirectories(root: string, key: string): boolean {
    let at = root;
    for (const part of key === '' ? [] : key.split('/')) {
      at = path.join(at, part);
      const stat = fs.lstatSync(at, { throwIfNoEntry: false });
      if (!stat?.isDirectory()) return false;
    }
    return true;
  }

  /**
   * Gives every directory of the tree that the step only passed through the owner, mode and
   * times it has in the lower image, where the lower image has a directory at that very path.
   * Only real directories are walked, so no symlink is followed on the host's side.
   */
  private keepLowerMetadata(): void {
    const lower = this.lower;
    if (lower === undefined) return;
    const visit = (key: string): void => {
      for (const entry of fs.readdirSync(path.join(this.dir, key), { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const child = key === '' ? entry.name : `${key}/${entry.name}`;
        visit(child);
        if (this.own.has(child) || !this.realDirectories(lower, child)) continue;
        const stat = fs.lstatSync(path.join(lower, child));
        const at = path.join(this.dir, child);
        // chown before chmod: chown clears setuid and setgid bits, which chmod then sets.
        fs.lchownSync(at, stat.uid, stat.gid);
        fs.chmodSync(at, stat.mode & 0o7777);
        fs.utimesSync(at, stat.atime, stat.mtime);
      }
    };
    visit('');
  }

  /**
   * A new regular file at `at` (O_EXCL: never through a symlink, EEXIST if the name is taken),
   * filled by `fill` and given `meta` through the one descriptor. chown before chmod: chown clears
   * setuid and setgid bits, which chmod then sets; times last, as writing changes them.
   */
  private makeFile(at: string, meta: NodeMetadata, fill: (fd: number) => void): void {
    const fd = fs.openSync(at, O.WRONLY | O.CREAT | O.EXCL | O.NOFOLLOW | O.CLOEXEC, 0o600);
    try {
      fill(fd);
      fs.fchownSync(fd, meta.uid, meta.gid);
      fs.fchmodSync(fd, meta.mode);
      if (meta.times) fs.futimesSync(fd, meta.times.atime, meta.times.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** Links `from` at `at`; false where it cannot be (another filesystem, too many links): the caller copies. */
function linkFile(from: string, at: string): boolean {
  try {
    fs.linkSync(from, at);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EMLINK' || code === 'EPERM') return false;
    throw err;
  }
}

/** Copies are made through this buffer: staging is synchronous, so nothing else uses it meanwhile. */
const copyBuffer = Buffer.allocUnsafe(1 << 20);

/** Copies what the open file `from` holds, to its end, into the open file `to`. */
function copyBytes(from: number, to: number): void {
  for (let n; (n = fs.readSync(from, copyBuffer, 0, copyBuffer.length, null)) > 0;) {
    for (let written = 0; written < n;) written += fs.writeSync(to, copyBuffer, written, n - written);
  }
}
