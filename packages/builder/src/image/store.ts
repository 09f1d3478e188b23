// Content-addressed blob store laid out as an OCI image layout's blobs directory:
// <root>/blobs/sha256/<hex>. Every blob enters through a temp file in <root>/tmp that is
// hashed, fsynced and renamed into place, so a crash never leaves a partial blob under a
// digest name, and no blob is ever stored or read without its digest being checked. Temp files
// are named after the process that writes them (process-tag.ts): what a killed process left is
// removed by the next run, what a live one is writing is not. A blob found corrupt is removed, so
// that the next build makes it again instead of failing on it forever.
import { createHash, randomBytes } from 'node:crypto';
import {
  constants, createReadStream, createWriteStream, closeSync, existsSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync,
  readFileSync, renameSync, statSync, rmSync, writeSync, type BigIntStats, type ReadStream,
} from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { withPath } from './fs-error.js';
import { readKeptTable, writeKeptTable } from './kept-table.js';
import { processTag, sweepDead } from './process-tag.js';

const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;

export interface BlobRef {
  digest: string;
  size: number;
}

/** Returns the hex part of a `sha256:<64 hex>` digest, throwing on anything else. */
export function digestHex(digest: string): string {
  const m = DIGEST_RE.exec(digest);
  if (!m?.[1]) throw new Error(`malformed digest ${JSON.stringify(digest)}: expected sha256:<64 lowercase hex>`);
  return m[1];
}

export function sha256Digest(buf: Buffer): string {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}

/** Streams bytes through sha256, returning their digest and count. */
async function hashStream(stream: AsyncIterable<Buffer>): Promise<BlobRef> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

/** Streams a file through sha256, returning its digest and byte count. */
function hashFile(file: string): Promise<BlobRef> {
  return hashStream(createReadStream(file));
}

/** Opens a blob file for reading, never through a symlink, and only if it is a regular file. */
function openBlobFile(file: string): number {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new Error(`${file} is not a regular file`);
  }
  return fd;
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * What identifies one version of a file: a write changes its ctime (which no caller can set back),
 * a replacement its inode. A blob whose identity is unchanged since it was hashed needs no new hash.
 */
function identity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.ctimeNs}`;
}

/** The ctime (ns) an identity holds: its last field. */
const identityCtime = (id: string): bigint => BigInt(id.slice(id.lastIndexOf(':') + 1));

/**
 * More than the kernel's timestamp granularity (a clock tick): a write to a blob after its
 * identity was taken shows in its ctime, unless the identity is younger than this (git's "racy
 * clean" rule). Such an identity of a blob found intact is not kept across processes; that of a
 * blob this process wrote is: taken once its bytes were synced and renamed into place, no later
 * write of ours can hide in its tick (a base image stored last by one build was hashed again,
 * 234 MB, by the next).
 */
const RACY_NS = 100_000_000n;
const CHECKS_VERSION = 1;

export class BlobStore {
  readonly root: string;
  private readonly blobDir: string;
  private readonly tmpDir: string;
  /** Blobs found intact (hashed or written), by the identity of the file hashed: by this process, or kept by earlier ones. */
  private readonly checked = new Map<string, string>();
  /** The blobs this process wrote (commit): their identities are kept however young. */
  private readonly written = new Set<string>();
  /** Where the identities are kept across processes (keepChecks), and what that file holds now. */
  private checks?: { file: string; saved: string };

  constructor(root: string) {
    this.root = root;
    this.blobDir = join(root, 'blobs', 'sha256');
    this.tmpDir = join(root, 'tmp');
  }

  path(digest: string): string {
    return join(this.blobDir, digestHex(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  /**
   * Keeps the identities of the blobs found intact in `file` (saveChecks), and takes those kept
   * there, so that a later build does not hash a blob again that no one wrote to since (a no-change
   * rebuild of a large image read every layer of it). A blob no longer stored is forgotten. A
   * missing or unreadable file is an empty one: it is only a cache.
   */
  keepChecks(file: string): void {
    const saved = readKeptTable<string>(file, CHECKS_VERSION, 'blobs');
    for (const [digest, id] of Object.entries(saved)) if (DIGEST_RE.test(digest) && this.has(digest)) this.checked.set(digest, id);
    this.checks = { file, saved: JSON.stringify(saved) };
  }

  /** Writes the identities (keepChecks) of the blobs written here and of those older than a clock tick, if they changed: whole, a temp file renamed over the old one. */
  saveChecks(): void {
    if (!this.checks) return;
    const settled = BigInt(Date.now()) * 1_000_000n - RACY_NS;
    const kept = ([digest, id]: [string, string]) => this.written.has(digest) || identityCtime(id) < settled;
    const blobs = Object.fromEntries([...this.checked].filter(kept).sort(([a], [b]) => (a < b ? -1 : 1)));
    const text = JSON.stringify(blobs);
    if (text === this.checks.saved) return;
    writeKeptTable(this.checks.file, CHECKS_VERSION, 'blobs', blobs);
    this.checks.saved = text;
  }

  /** A fresh file name in the store's temp dir, on the same filesystem as the blobs so rename is atomic. */
  tempPath(): string {
    mkdirSync(this.tmpDir, { recursive: true });
    return join(this.tmpDir, `${processTag()}-${randomBytes(8).toString('hex')}`);
  }

  /** Removes the temp files of processes that no longer run (killed mid-write); returns their paths. */
  sweepTemp(): string[] {
    return sweepDead(this.tmpDir);
  }

  /** Moves a finished temp file into the store under its own digest (checked against `expected`). */
  async putFile(tmpFile: string, expected?: string): Promise<BlobRef> {
    if (expected !== undefined) digestHex(expected);
    try {
      const ref = await hashFile(tmpFile);
      if (expected !== undefined && ref.digest !== expected) throw new Error(`blob digest mismatch: expected ${expected}, content is ${ref.digest}`);
      this.commit(tmpFile, ref.digest);
      return ref;
    } catch (err) {
      rmSync(tmpFile, { force: true });
      throw withPath(err, tmpFile);
    }
  }

  /**
   * Moves a temp file into the store under `digest`, which this process computed of the very bytes
   * it wrote there (a layer it made): not read again, as putFile would.
   */
  putHashed(tmpFile: string, digest: string): BlobRef {
    digestHex(digest);
    try {
      const size = statSync(tmpFile).size;
      this.commit(tmpFile, digest);
      return { digest, size };
    } catch (err) {
      rmSync(tmpFile, { force: true });
      throw withPath(err, tmpFile);
    }
  }

  /** Stores small bytes (a config, a manifest); a stored copy that differs from them is replaced. */
  putBytes(buf: Buffer): BlobRef {
    const digest = sha256Digest(buf);
    const ref = { digest, size: buf.length };
    if (this.holds(digest, buf)) return ref;
    const tmp = this.tempPath();
    try {
      const fd = openSync(tmp, 'wx', 0o644);
      try {
        let off = 0;
        while (off < buf.length) off += writeSync(fd, buf, off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.commit(tmp, digest);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw withPath(err, tmp);
    }
    return ref;
  }

  /** Whether the blob is stored and matches its digest; a corrupt copy is removed (see check()), to be stored anew. */
  private async holdsIntact(digest: string): Promise<boolean> {
    if (!this.has(digest)) return false;
    try {
      await this.verify(digest);
      return true;
    } catch {
      return false;
    }
  }

  private holds(digest: string, buf: Buffer): boolean {
    try {
      return readFileSync(this.path(digest)).equals(buf);
    } catch {
      return false;
    }
  }

  /**
   * Copies a blob from outside the store (a file of another OCI layout) in under `expected.digest`,
   * hashed and counted while it streams into a temp file: it is committed only if its content has
   * exactly the digest and size of its descriptor, so no source can put other bytes under a digest
   * that a later build trusts. On a mismatch nothing is left in the store.
   */
  async importFile(file: string, expected: BlobRef): Promise<void> {
    digestHex(expected.digest);
    if (await this.holdsIntact(expected.digest)) return;
    const problem = (what: string) => new Error(`blob ${expected.digest} from ${file}: ${what}`);
    const mismatch = (what: string) => problem(`${what}, not what its descriptor says (${expected.size} bytes)`);
    let fd: number;
    try {
      fd = openBlobFile(file);
    } catch (err) {
      throw problem((err as Error).message);
    }
    // The size is checked first and again as bytes arrive, so a hostile source (say a file that
    // keeps growing) is cut off at the descriptor's size instead of filling the disk.
    const statSize = fstatSync(fd).size;
    if (statSize !== expected.size) {
      closeSync(fd);
      throw mismatch(`the file has ${statSize} bytes`);
    }
    await this.importStream(createReadStream('', { fd }), expected, mismatch);
  }

  /**
   * Stores what `source` yields under `expected.digest`, hashed and counted as it streams into a
   * temp file and committed only if it has exactly that digest and size; a source longer than the
   * descriptor says is cut off there, so it cannot fill the disk. `mismatch` words the refusal.
   */
  async importStream(source: Readable, expected: BlobRef, mismatch: (what: string) => Error): Promise<void> {
    const tmp = this.tempPath();
    try {
      const hash = createHash('sha256');
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (size > expected.size) return done(mismatch(`the content is longer than ${expected.size} bytes`));
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(source, counter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== expected.digest || size !== expected.size) throw mismatch(`the content is ${actual} (${size} bytes)`);
      this.commit(tmp, actual);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw withPath(err, tmp);
    }
  }

  /**
   * Opens a stored blob for reading once its content is checked against its name, so a blob
   * corrupted on disk (or put there by something other than this store) is reported, never used.
   * The returned stream reads the same open file that was hashed.
   */
  async open(digest: string): Promise<ReadStream> {
    const fd = openBlobFile(this.path(digest));
    try {
      this.check(digest, fd, (await hashStream(createReadStream('', { fd, start: 0, autoClose: false }))).digest);
      return createReadStream('', { fd, start: 0 });
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /**
   * Throws if a stored blob no longer matches its name (removing it: see check()). A blob this
   * process hashed or wrote, unchanged since, is not read again.
   */
  async verify(digest: string): Promise<void> {
    const fd = openBlobFile(this.path(digest));
    try {
      const id = identity(fstatSync(fd, { bigint: true }));
      if (this.checked.get(digest) === id) return;
      this.check(digest, fd, (await hashStream(createReadStream('', { fd, start: 0, autoClose: false }))).digest);
      this.checked.set(digest, id);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Throws unless the blob open as `fd` hashed to its own digest. A corrupt blob is unlinked,
   * provided its name still leads to the file that was hashed (a concurrent commit may have put a
   * good copy there meanwhile), so the next build that needs it makes or fetches it anew.
   */
  private check(digest: string, fd: number, actual: string): void {
    if (actual === digest) return;
    const file = this.path(digest);
    const hashed = fstatSync(fd, { bigint: true });
    const current = lstatSync(file, { bigint: true, throwIfNoEntry: false });
    const removed = current !== undefined && current.dev === hashed.dev && current.ino === hashed.ino;
    if (removed) rmSync(file, { force: true });
    this.checked.delete(digest);
    throw new Error(`blob ${digest} is corrupt: ${file} hashes to ${actual}${removed ? '; removed it from the store' : ''}`);
  }

  /** Reads a JSON blob, checking its digest first (JSON blobs are small, so hashing in memory is fine). */
  readJson<T>(digest: string): T {
    const fd = openBlobFile(this.path(digest));
    try {
      const buf = readFileSync(fd);
      this.check(digest, fd, sha256Digest(buf));
      return JSON.parse(buf.toString('utf8')) as T;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Renames a hashed temp file into place. An existing blob of the digest is replaced, not kept:
   * same digest means same bytes, unless the stored copy was damaged, which this repairs.
   */
  private commit(tmpFile: string, digest: string): void {
    const dest = this.path(digest);
    fsyncFile(tmpFile);
    mkdirSync(this.blobDir, { recursive: true });
    renameSync(tmpFile, dest);
    fsyncDir(this.blobDir);
    this.checked.set(digest, identity(lstatSync(dest, { bigint: true })));
    this.written.add(digest);
  }
}
