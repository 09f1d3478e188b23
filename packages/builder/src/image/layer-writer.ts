// Turns a directory tree (or an overlayfs upper dir) into an uncompressed OCI layer tar.
// Output is reproducible: entries come in a fixed order (depth first, siblings sorted by
// byte order), owner names are omitted, and mtimes are clamped to SOURCE_DATE_EPOCH.
import { createHash } from 'node:crypto';
import { createWriteStream, lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MEDIA_TYPES } from '@tsrunc/spec-schemas';
import { withPath } from './fs-error.js';
import { OPAQUE_XATTR, OVERLAY_XATTR_PREFIX } from './layer-stack.js';
import type { BlobStore } from './store.js';
import { addEntry, packInto, type TarHeader } from './tar-pack.js';
import { devMajor, devMinor, getXattr, listXattrs } from './xattr.js';

interface LayerEntry {
  header: TarHeader;
  /** Host file whose content becomes the entry body (regular files only). */
  source?: string;
}

/** A plain tree (the layer's files) or an overlayfs upper directory (whiteouts as 0/0 devices, opaque directories by xattr). */
export type LayerTreeKind = 'tree' | 'overlay-upper';

export const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

const S_IFMT = 0o170000n;
const S_IFREG = 0o100000n;
const S_IFDIR = 0o040000n;
const S_IFLNK = 0o120000n;
const S_IFCHR = 0o020000n;
const S_IFBLK = 0o060000n;
const S_IFIFO = 0o010000n;

/**
 * The mtime a layer entry records for a file whose mtime is `mtimeMs`: clamped to
 * SOURCE_DATE_EPOCH, in whole seconds (as tar-stream writes a header's mtime).
 */
export function recordedMtime(mtimeMs: number, sourceDateEpoch: number | undefined): Date {
  const clamped = sourceDateEpoch === undefined ? mtimeMs : Math.min(mtimeMs, sourceDateEpoch * 1000);
  return new Date(((clamped / 1000) | 0) * 1000);
}

/** Whether a layer entry records the very mtime `st` has (whole seconds, not clamped). */
export function recordsOwnMtime(st: BigIntStats, sourceDateEpoch: number | undefined): boolean {
  return st.mtimeNs === BigInt(recordedMtime(Number(st.mtimeMs), sourceDateEpoch).getTime()) * 1_000_000n;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Xattrs as PAX SCHILY.xattr.* records. tar-stream writes PAX values as UTF-8 text, so
 * binary values (e.g. security.capability) cannot be carried and are left out; overlayfs'
 * own bookkeeping attributes never belong in a layer.
 */
function xattrRecords(path: string, names: string[]): Record<string, string> | undefined {
  let records: Record<string, string> | undefined;
  for (const name of names) {
    const value = getXattr(path, name);
    if (value === null || !recordsXattr(name, value)) continue;
    records ??= {};
    records[`SCHILY.xattr.${name}`] = value.toString('utf8');
  }
  return records;
}

/** Whether a layer entry records the xattr `name` with `value` (see xattrRecords). */
export function recordsXattr(name: string, value: Buffer): boolean {
  return !name.startsWith(OVERLAY_XATTR_PREFIX) && Buffer.from(value.toString('utf8'), 'utf8').equals(value);
}

/** redirect_dir and metacopy uppers describe changes by reference to lower layers, which a tar cannot express. */
function rejectUnsupportedOverlayFeatures(path: string, xattrs: string[]): void {
  for (const feature of ['redirect', 'metacopy']) {
    if (xattrs.includes(`${OVERLAY_XATTR_PREFIX}${feature}`)) {
      throw new Error(`overlay upper ${path}: uses overlayfs ${feature} (mount without redirect_dir/metacopy)`);
    }
  }
}

/** Told of each entry of a tree as its layer is made (layer-settle.ts settles the tree so, in the same walk). */
export interface TreeVisitor {
  /** The tree's own directory, before any entry. */
  root(dir: string): void;
  /** An entry: its path, name, lstat and xattr names, met after its parent's. */
  entry(at: string, name: string, st: BigIntStats, xattrs: readonly string[]): void;
}

/**
 * Walks a tree and yields one layer entry per file, converting overlay markers when `kind` asks
 * for it. Its calls are synchronous: as thread-pool round trips (an lstat, a small file's open,
 * read and close), a layer of thousands of small files took twice as long, gzip waiting on the
 * same pool.
 */
class TreeWalker {
  /** First path seen for each multiply-linked inode, so later names become hard links to it. */
  private readonly inodes = new Map<string, string>();

  constructor(
    private readonly root: string,
    private readonly kind: LayerTreeKind,
    private readonly sourceDateEpoch: number | undefined,
    private readonly visitor?: TreeVisitor,
  ) {}

  *entries(): Generator<LayerEntry> {
    this.visitor?.root(this.root);
    yield* this.below('');
  }

  private *below(rel: string): Generator<LayerEntry> {
    const names = readdirSync(join(this.root, rel)).sort(byteOrder);
    for (const name of names) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const full = join(this.root, childRel);
      const st = lstatSync(full, { bigint: true });
      const type = st.mode & S_IFMT;
      if (this.kind === 'overlay-upper' && type === S_IFCHR && st.rdev === 0n) {
        this.visitor?.entry(full, name, st, []);
        // overlayfs records a deletion as a 0:0 character device; OCI layers use an empty .wh. file.
        yield { header: { ...this.baseHeader(st), name: `${rel === '' ? '' : `${rel}/`}${WHITEOUT_PREFIX}${name}`, type: 'file', size: 0 } };
        continue;
      }
      const xattrs = listXattrs(full);
      if (this.kind === 'overlay-upper') rejectUnsupportedOverlayFeatures(full, xattrs);
      yield this.entryFor(childRel, full, st, xattrs);
      // After the entry is made of what the tree had: settling changes nothing a layer records.
      this.visitor?.entry(full, name, st, xattrs);
      if (type !== S_IFDIR) continue;
      if (this.kind === 'overlay-upper' && xattrs.includes(OPAQUE_XATTR) && getXattr(full, OPAQUE_XATTR)?.toString() === 'y') {
        // An opaque upper dir hides everything below it: say so before its new children.
        yield { header: { ...this.baseHeader(st), name: `${childRel}/${OPAQUE_MARKER}`, type: 'file', size: 0, mode: 0o644 } };
      }
      yield* this.below(childRel);
    }
  }

  private baseHeader(st: BigIntStats): TarHeader {
    return { name: '', mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtime: recordedMtime(Number(st.mtimeMs), this.sourceDateEpoch) };
  }

  private entryFor(rel: string, full: string, st: BigIntStats, xattrs: string[]): LayerEntry {
    const header: TarHeader = { ...this.baseHeader(st), name: rel };
    const type = st.mode & S_IFMT;
    if (type !== S_IFDIR && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.inodes.get(key);
      // A hard link carries no metadata of its own: it shares the first name's inode.
      if (first !== undefined) return { header: { ...header, type: 'link', linkname: first, size: 0 } };
      this.inodes.set(key, rel);
    }
    const pax = xattrRecords(full, xattrs);
    if (pax) header.pax = pax;
    switch (type) {
      case S_IFREG:
        return { header: { ...header, type: 'file', size: Number(st.size) }, source: full };
      case S_IFDIR:
        return { header: { ...header, name: `${rel}/`, type: 'directory' } };
      case S_IFLNK:
        return { header: { ...header, type: 'symlink', linkname: readlinkSync(full) } };
      case S_IFCHR:
      case S_IFBLK:
        return {
          header: { ...header, type: type === S_IFCHR ? 'character-device' : 'block-device', devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev) },
        };
      case S_IFIFO:
        return { header: { ...header, type: 'fifo' } };
      default:
        // Sockets only exist while a process holds them; tar has no way to record one.
        throw new Error(`cannot archive ${full}: unsupported file type (socket?)`);
    }
  }
}

/** Packs entries into `out` (which is ended), hashing the tar bytes on the way to get the diffID. */
async function packEntries(entries: Iterable<LayerEntry>, out: NodeJS.WritableStream): Promise<{ diffId: string }> {
  const hash = createHash('sha256');
  await packInto(
    out,
    async (pack) => {
      for (const { header, source } of entries) {
        await addEntry(pack, header, source === undefined ? { bytes: Buffer.alloc(0) } : { file: source });
      }
    },
    (chunk) => hash.update(chunk),
  );
  return { diffId: `sha256:${hash.digest('hex')}` };
}

export interface WriteLayerOptions {
  /** Directory whose contents become the layer (the directory itself is not an entry). */
  root: string;
  out: NodeJS.WritableStream;
  sourceDateEpoch?: number;
}

/** Writes `root` as an uncompressed layer tar to `out`; returns the sha256 of the tar (the diffID). */
export function writeLayer(opts: WriteLayerOptions): Promise<{ diffId: string }> {
  return packEntries(new TreeWalker(opts.root, 'tree', opts.sourceDateEpoch).entries(), opts.out);
}

export interface WriteDiffLayerOptions {
  /** An overlayfs upper dir (after unmounting, or at least with no writers). */
  upper: string;
  out: NodeJS.WritableStream;
  sourceDateEpoch?: number;
}

/** Like writeLayer, but turns overlayfs whiteouts and opaque dirs into OCI .wh. entries. */
export function writeDiffLayer(opts: WriteDiffLayerOptions): Promise<{ diffId: string }> {
  return packEntries(new TreeWalker(opts.upper, 'overlay-upper', opts.sourceDateEpoch).entries(), opts.out);
}

export interface StoredLayer {
  descriptor: { mediaType: typeof MEDIA_TYPES.layer; digest: string; size: number };
  diffId: string;
}

/**
 * Writes what `write` produces straight into the blob store as an uncompressed tar, hashed as it
 * is written: its digest is its diffID. Compression waits until an image leaves the store
 * (layer-compression.ts).
 */
async function storeTar(store: BlobStore, write: (out: NodeJS.WritableStream) => Promise<{ diffId: string }>): Promise<StoredLayer> {
  const tmp = store.tempPath();
  const out = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
  let diffId: string;
  try {
    ({ diffId } = await write(out)); // written whole: the pack's pipeline ends `out` and waits for it
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw withPath(err, tmp);
  }
  const { digest, size } = store.putHashed(tmp, diffId);
  return { descriptor: { mediaType: MEDIA_TYPES.layer, digest, size }, diffId };
}

/**
 * Archives a directory tree (`kind: 'tree'`) or an overlay upper dir as an uncompressed layer
 * blob in `store`, telling `visitor` of each entry on the way.
 */
export function storeDirectoryAsLayer(store: BlobStore, dirOrUpper: string, kind: LayerTreeKind, sourceDateEpoch?: number, visitor?: TreeVisitor): Promise<StoredLayer> {
  return storeTar(store, (out) => packEntries(new TreeWalker(dirOrUpper, kind, sourceDateEpoch, visitor).entries(), out));
}
