// Content-addressed blob store laid out as an OCI image layout's blobs directory:
// <root>/blobs/sha256/<hex>. Every blob enters through a temp file in <root>/tmp that is
// hashed, fsynced and renamed into place, so a crash never leaves a partial blob under a
// digest name, and no blob is ever stored or read without its digest being checked.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

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

/** Streams a file through sha256, returning its digest and byte count. */
export async function hashFile(file: string): Promise<BlobRef> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
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

export class BlobStore {
  readonly root: string;
  private readonly blobDir: string;
  private readonly tmpDir: string;

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

  /** A fresh file name in the store's temp dir, on the same filesystem as the blobs so rename is atomic. */
  tempPath(): string {
    mkdirSync(this.tmpDir, { recursive: true });
    return join(this.tmpDir, `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  /** Moves a finished temp file into the store under its own digest (checked against `expected`). */
  async putFile(tmpFile: string, expected?: string): Promise<BlobRef> {
    if (expected !== undefined) digestHex(expected);
    const ref = await hashFile(tmpFile);
    if (expected !== undefined && ref.digest !== expected) {
      unlinkSync(tmpFile);
      throw new Error(`blob digest mismatch: expected ${expected}, content is ${ref.digest}`);
    }
    this.commit(tmpFile, ref.digest);
    return ref;
  }

  putBytes(buf: Buffer): BlobRef {
    const digest = sha256Digest(buf);
    if (this.has(digest)) return { digest, size: buf.length };
    const tmp = this.tempPath();
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.commit(tmp, digest);
    return { digest, size: buf.length };
  }

  /** Re-hashes a stored blob and throws if it no longer matches its name. */
  async verify(digest: string): Promise<void> {
    const file = this.path(digest);
    const { digest: actual } = await hashFile(file);
    if (actual !== digest) throw new Error(`blob ${digest} is corrupt: content hashes to ${actual}`);
  }

  /** Reads a JSON blob, checking its digest first (JSON blobs are small, so hashing in memory is fine). */
  readJson<T>(digest: string): T {
    const buf = readFileSync(this.path(digest));
    const actual = sha256Digest(buf);
    if (actual !== digest) throw new Error(`blob ${digest} is corrupt: content hashes to ${actual}`);
    return JSON.parse(buf.toString('utf8')) as T;
  }

  private commit(tmpFile: string, digest: string): void {
    const dest = this.path(digest);
    if (existsSync(dest)) {
      // Same digest means same bytes: keep the existing blob, drop the duplicate.
      unlinkSync(tmpFile);
      return;
    }
    fsyncFile(tmpFile);
    mkdirSync(this.blobDir, { recursive: true });
    renameSync(tmpFile, dest);
    fsyncDir(this.blobDir);
  }
}
