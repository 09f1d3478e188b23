// Applies a layer tar (plain, gzip or zstd) onto a directory, the way a container runtime
// unpacks an image, but without ever letting an entry reach outside the target:
//  - names that are absolute or contain `..` are refused, not rewritten;
//  - parent directories are walked one component at a time with lstat, and a symlink
//    among them is refused ("parent ... is a symlink") rather than resolved, so even a
//    symlink planted by an earlier entry or layer cannot redirect a write;
//  - hard link targets obey the same rules and must already exist inside the target;
//  - symlink targets are stored verbatim; they are only ever resolved inside the container.
// Any violation aborts the extraction with an error naming the offending entry.
import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, createWriteStream, openSync, utimesSync } from 'node:fs';
import { chmod, copyFile, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, pipeline as pipelineCb } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { SysError } from '@tsrunc/runtime/platform';
import { O, openInRoot, procFdPath } from '@tsrunc/runtime/platform';
import { findInLayers, OPAQUE_XATTR, OVERLAY_XATTR_PREFIX } from './layer-stack.js';
import type { BlobStore } from './store.js';
import { mknod, setXattr } from './xattr.js';

type Header = tar.Header;
/** An entry's body stream; tar-stream does not export its name. */
type EntryBody = tar.Extract extends AsyncIterable<infer S> ? S : never;

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const XATTR_PAX_PREFIX = 'SCHILY.xattr.';
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
/**
 * A deferred directory that a later entry of the layer removed (ENOENT), replaced by a
 * non-directory (ENOTDIR), or put under a symlink loop (ELOOP).
 */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

class LayerEntryError extends Error {
  constructor(entry: string, problem: string) {
    super(`layer entry ${entry}: ${problem}`);
  }
}

/**
 * Splits an entry name into safe components. Leading `./` and trailing `/` are normal tar
 * noise; a leading `/` or a `..` component is refused, and so is an empty name unless it is
 * the root entry (`.` or `./`, which `tar -C dir .` and umoci write) and `root` allows it.
 */
function components(entry: string, name: string, root = false): string[] {
  if (name.startsWith('/')) throw new LayerEntryError(entry, 'absolute path');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new LayerEntryError(entry, "path contains '..'");
  if (parts.length === 0 && !(root && name !== '')) throw new LayerEntryError(entry, 'empty path');
  return parts;
}

/** Stats without following symlinks; null if the path does not exist. */
async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/**
 * Returns the uncompressed tar bytes of `input`: gunzipped when it starts with the gzip magic
 * 1f 8b, through Debian's zstd when it starts with zstd's (Node 20 has no zstd of its own).
 */
export async function openLayerTar(input: NodeJS.ReadableStream): Promise<Readable> {
  const iterator = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < ZSTD_MAGIC.length && !ended) {
    const next = await iterator.next();
    if (next.done) ended = true;
    else {
      head.push(Buffer.from(next.value));
      headLength += next.value.length;
    }
  }
  const prefix = Buffer.concat(head);
  async function* replay(): AsyncGenerator<Buffer> {
    yield prefix;
    for (let next = ended ? null : await iterator.next(); next && !next.done; next = await iterator.next()) yield Buffer.from(next.value);
  }
  const raw = Readable.from(replay());
  if (ZSTD_MAGIC.every((byte, i) => prefix[i] === byte)) return zstdDecompress(raw);
  if (prefix[0] !== 0x1f || prefix[1] !== 0x8b) return raw;
  // The callback form of pipeline returns the gunzip stream and destroys it with any upstream error.
  return pipelineCb(raw, createGunzip(), () => undefined);
}

/** `zstd -dc` between `raw` and the returned stream, which fails if zstd does. */
function zstdDecompress(raw: Readable): Readable {
  const child = spawn('zstd', ['-dcq'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.on('error', (err) => child.stdout.destroy(new Error(`zstd: ${err.message} (install Debian's zstd)`)));
  child.on('close', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`zstd could not decompress the layer: ${stderr.trim() || `exit ${code}`}`));
  });
  pipelineCb(raw, child.stdin, () => undefined);
  return child.stdout;
}

/** Applies one layer's entries, remembering what it wrote so opaque markers spare it. */
class LayerApplier {
  private readonly written = new Set<string>();
  /** Directory mtimes are set last: creating children would otherwise bump them again. */
  private readonly dirTimes: { rel: string; mtime: Date }[] = [];
  private readonly isRoot = process.getuid?.() === 0;

  /**
   * Without `below`, the layer is applied: whiteouts remove what they name. With it, the layer is
   * written as one layer of an overlay stack (`below`, top first, is the stack under it):
   * whiteouts become 0/0 character devices, opaque markers the opaque xattr, a parent directory
   * the layer lacks takes the metadata the stack gives it, and a hard link to a file of the stack
   * copies that file up first, as overlayfs would.
   */
  constructor(private readonly target: string, private readonly below?: readonly string[]) {}

  /** The paths (relative to the target) the layer wrote. */
  get wrote(): ReadonlySet<string> {
    return this.written;
  }

  /**
   * Resolves the parent directories of `parts` inside the target, creating missing ones
   * (0755, like other unpackers) when `create` is set. Returns null if a parent is missing
   * and `create` is off.
   */
  private async parentDir(entry: string, parts: string[], create: boolean): Promise<string | null> {
    let dir = this.target;
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      const st = await lstatOrNull(dir);
      if (st === null) {
        if (!create) return null;
        await mkdir(dir, { mode: 0o755 });
        if (this.below) await this.copyDirMetadata(dir);
        continue;
      }
      if (st.isSymbolicLink()) throw new LayerEntryError(entry, `parent ${dir.slice(this.target.length + 1)} is a symlink`);
      if (!st.isDirectory()) throw new LayerEntryError(entry, `parent ${dir.slice(this.target.length + 1)} is not a directory`);
    }
    return dir;
  }

  async apply(header: Header, body: EntryBody): Promise<void> {
    const entry = header.name;
    const parts = components(entry, header.name, true);
    if (parts.length === 0) {
      // The root entry changes nothing, as containerd applies a layer and docker's untar an
      // ADD archive: what the target is stays as the image (or the destination) has it.
      body.resume();
      return;
    }
    const base = parts[parts.length - 1] as string;
    const rel = parts.join('/');

    if (this.below && base.startsWith(WHITEOUT_PREFIX)) {
      body.resume();
      await this.markWhiteout(entry, parts, base);
      return;
    }
    if (base === OPAQUE_MARKER) {
      body.resume();
      const dir = await this.parentDir(entry, parts, false);
      if (dir !== null) await this.emptyDir(dir, parts.slice(0, -1).join('/'));
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      body.resume();
      const hidden = base.slice(WHITEOUT_PREFIX.length);
      if (hidden === '' || hidden === '.' || hidden === '..') throw new LayerEntryError(entry, 'malformed whiteout');
      const dir = await this.parentDir(entry, parts, false);
      if (dir !== null) await rm(join(dir, hidden), { recursive: true, force: true });
      return;
    }

    const dir = (await this.parentDir(entry, parts, true)) as string;
    const path = join(dir, base);
    const existing = await lstatOrNull(path);
    const keepDir = header.type === 'directory' && existing?.isDirectory();
    if (existing && !keepDir) await rm(path, { recursive: true, force: true });

    await this.create(entry, header, body, path, keepDir === true);
    this.written.add(rel);
    if (header.type === 'link') return; // a hard link shares the first name's inode and metadata
    await this.setMetadata(header, path, rel);
  }

  private async create(entry: string, header: Header, body: EntryBody, path: string, exists: boolean): Promise<void> {
    const mode = (header.mode ?? 0o644) & 0o7777;
    switch (header.type) {
      case 'file':
      case 'contiguous-file':
      case null:
      case undefined:
        // 'wx' is O_CREAT|O_EXCL: it fails rather than follow anything found at `path`.
        await pipeline(body as AsyncIterable<Buffer>, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
        return;
      case 'directory':
        if (!exists) await mkdir(path, { mode: 0o700 });
        break;
      case 'symlink':
        await symlink(header.linkname ?? '', path);
        break;
      case 'link':
        await link(await this.linkSource(entry, header.linkname ?? ''), path);
        break;
      case 'character-device':
      case 'block-device':
      case 'fifo':
        this.makeNode(header, path, mode);
        break;
      default:
        throw new LayerEntryError(entry, `unsupported entry type ${header.type}`);
    }
    body.resume();
  }

  /** Overlay format: an opaque marker sets the xattr on its directory, a whiteout is a 0/0 character device. */
  private async markWhiteout(entry: string, parts: string[], base: string): Promise<void> {
    const dir = (await this.parentDir(entry, parts, true)) as string;
    if (base === OPAQUE_MARKER) {
      setXattr(dir, OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') throw new LayerEntryError(entry, 'malformed whiteout');
    await rm(join(dir, hidden), { recursive: true, force: true });
    mknod(join(dir, hidden), S_IFCHR, 0, 0);
    this.written.add([...parts.slice(0, -1), hidden].join('/'));
  }

  /** A directory this layer lacks, made for an entry under it: the metadata the stack below gives it, if any. */
  private async copyDirMetadata(dir: string): Promise<void> {
    const rel = dir.slice(this.target.length + 1);
    const found = findInLayers(this.below ?? [], rel.split('/'));
    if (!found?.stat.isDirectory()) return;
    if (this.isRoot) await lchown(dir, found.stat.uid, found.stat.gid);
    await chmod(dir, found.stat.mode & 0o7777);
    this.dirTimes.push({ rel, mtime: found.stat.mtime });
  }

  /** A hard link's target from the stack below, copied into this layer (content, owner, mode, times) so that the link can share it. */
  private async copyUp(entry: string, linkname: string, parts: string[]): Promise<string | null> {
    const found = findInLayers(this.below ?? [], parts);
    if (found === null || found.stat.isDirectory()) return null;
    const to = join((await this.parentDir(entry, parts, true)) as string, parts[parts.length - 1] as string);
    if (found.stat.isSymbolicLink()) await symlink(await readlink(found.path), to);
    else if (found.stat.isFile()) await copyFile(found.path, to, constants.COPYFILE_EXCL);
    else throw new LayerEntryError(entry, `hard link target ${linkname} is neither a file nor a symlink`);
    if (this.isRoot) await lchown(to, found.stat.uid, found.stat.gid);
    if (!found.stat.isSymbolicLink()) await chmod(to, found.stat.mode & 0o7777);
    await lutimes(to, found.stat.atime, found.stat.mtime);
    return to;
  }

  /** Hard link targets are layer paths: resolved like entry names and required to exist as non-directories. */
  private async linkSource(entry: string, linkname: string): Promise<string> {
    const parts = components(entry, linkname);
    const dir = await this.parentDir(entry, parts, false);
    let source = dir === null ? null : join(dir, parts[parts.length - 1] as string);
    let st = source === null ? null : await lstatOrNull(source);
    if (st === null && this.below) {
      source = await this.copyUp(entry, linkname, parts);
      st = source === null ? null : await lstatOrNull(source);
    }
    if (source === null || st === null) throw new LayerEntryError(entry, `hard link target ${linkname} does not exist`);
    if (st.isDirectory()) throw new LayerEntryError(entry, `hard link target ${linkname} is a directory`);
    return source;
  }

  /** Device nodes need CAP_MKNOD; without root they are skipped, as rootless unpackers do. */
  private makeNode(header: Header, path: string, mode: number): void {
    const kind = header.type === 'fifo' ? S_IFIFO : header.type === 'character-device' ? S_IFCHR : S_IFBLK;
    if (kind !== S_IFIFO && !this.isRoot) return;
    mknod(path, kind | mode, header.devmajor ?? 0, header.devminor ?? 0);
  }

  private async setMetadata(header: Header, path: string, rel: string): Promise<void> {
    const isLink = header.type === 'symlink';
    // chown first: it clears setuid/setgid bits, which chmod then restores.
    if (this.isRoot) await lchown(path, header.uid ?? 0, header.gid ?? 0);
    if (!isLink) await chmod(path, (header.mode ?? 0o644) & 0o7777);
    for (const [key, value] of Object.entries((header.pax ?? {}) as Record<string, string>)) {
      if (this.below && key.startsWith(XATTR_PAX_PREFIX + OVERLAY_XATTR_PREFIX)) continue;
      if (key.startsWith(XATTR_PAX_PREFIX)) setXattr(path, key.slice(XATTR_PAX_PREFIX.length), Buffer.from(value, 'utf8'));
    }
    const mtime = header.mtime ?? new Date(0);
    if (header.type === 'directory') this.dirTimes.push({ rel, mtime });
    else if (isLink) await lutimes(path, mtime, mtime);
    else await utimes(path, mtime, mtime);
  }

  /** Opaque marker: hide everything lower layers put in `dir`, but keep what this layer already wrote there. */
  private async emptyDir(dir: string, rel: string): Promise<void> {
    const st = await lstatOrNull(dir);
    if (st === null || !st.isDirectory()) return;
    for (const name of await readdir(dir)) {
      if (!this.written.has(rel === '' ? name : `${rel}/${name}`)) await rm(join(dir, name), { recursive: true, force: true });
    }
  }

  /**
   * Sets the deferred directory times. A later entry of the layer may have replaced a directory,
   * by a symlink to anywhere for one: each path is opened again inside the target (RESOLVE_IN_ROOT)
   * without following its last component, and what is no longer a directory is skipped, so that
   * no time lands outside the target.
   */
  finish(): void {
    const rootFd = openSync(this.target, O.PATH | O.DIRECTORY);
    try {
      // Deepest first, so setting a child's time cannot disturb an already-set parent.
      for (const { rel, mtime } of this.dirTimes.reverse()) {
        let fd: number;
        try {
          fd = openInRoot(rootFd, rel, O.PATH | O.DIRECTORY | O.NOFOLLOW);
        } catch (err) {
          if (GONE.has((err as SysError).code)) continue;
          throw err;
        }
        try {
          // An O_PATH descriptor cannot be passed to futimens; its /proc link names the directory itself.
          utimesSync(procFdPath(fd), mtime, mtime);
        } finally {
          closeSync(fd);
        }
      }
    } finally {
      closeSync(rootFd);
    }
  }
}

/**
 * Extracts a layer (uncompressed or gzip tar) onto `target`, which must already exist. Returns
 * the paths it wrote, relative to `target`.
 */
export function extractLayer(tarStream: NodeJS.ReadableStream, target: string): Promise<ReadonlySet<string>> {
  return applyLayer(tarStream, new LayerApplier(target));
}

/**
 * Extracts a layer onto `target` (an empty directory) as one layer of an overlay stack whose
 * layers below are `below`, top first: whiteouts kept as overlayfs whiteouts, not applied. The
 * uncompressed tar must hash to `diffId`, the name the extracted layer is kept under and shared by.
 */
export async function extractLayerSnapshot(tarStream: NodeJS.ReadableStream, target: string, below: readonly string[], diffId: string): Promise<void> {
  const hash = createHash('sha256');
  await applyLayer(tarStream, new LayerApplier(target, below), hash);
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== diffId) throw new Error(`layer content ${actual} is not its diff_id ${diffId}`);
}

async function applyLayer(tarStream: NodeJS.ReadableStream, applier: LayerApplier, hash?: Hash): Promise<ReadonlySet<string>> {
  const bytes = await openLayerTar(tarStream);
  const extract = tar.extract();
  bytes.on('error', (err) => extract.destroy(err));
  if (hash) bytes.on('data', (chunk: Buffer) => hash.update(chunk));
  bytes.pipe(extract);
  try {
    for await (const entry of extract) await applier.apply(entry.header, entry);
    applier.finish();
    // The archive's end may come before the stream's (padding after the end blocks): all of it is hashed.
    if (hash && !bytes.readableEnded) await finished(bytes.resume());
    return applier.wrote;
  } finally {
    // On success this is a no-op; on failure it stops reading the rest of the layer.
    bytes.destroy();
  }
}

/**
 * An image's filesystem: its layer blobs (bottom first) applied in order onto `target`, each
 * checked against its digest before any of it is applied.
 */
export async function extractLayers(blobs: BlobStore, digests: string[], target: string): Promise<void> {
  for (const digest of digests) await extractLayer(await blobs.open(digest), target);
}
