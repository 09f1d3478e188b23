// Content digests of the build context's files, remembered across builds by what stat says of
// each file (size, mtime, ctime, device, inode), as BuildKit's contenthash keeps them: a rebuild
// whose context did not change reads no file content, only the tree's metadata. A file whose
// ctime is that of the moment it was hashed might still change within the same timestamp tick
// without its stat changing: such an entry is not kept (git's "racy clean" rule).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readKeptTable, writeKeptTable } from '../image/kept-table.js';

/** Files are read this much at a time: hashing a file of any size takes this memory. */
const CHUNK = 1 << 20;
/** More than the kernel's timestamp granularity (a clock tick): a later write shows in ctime. */
const RACY_NS = 100_000_000n;
const VERSION = 1;
/** The one buffer files are read into: hashing is synchronous, so nothing else uses it meanwhile. */
const chunk = Buffer.allocUnsafe(CHUNK);

/** [size, mtimeNs, ctimeNs, dev, ino, sha256 hex], the numbers as decimal text. */
type Entry = [string, string, string, string, string, string];

const statKey = (st: fs.BigIntStats): string => `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.dev}:${st.ino}`;
const entryKey = (e: Entry): string => e.slice(0, 5).join(':');

/** The sha256 (hex) of the bytes an open file holds, read in chunks. */
export function hashOpenFile(fd: number): string {
  const hash = createHash('sha256');
  for (let n; (n = fs.readSync(fd, chunk, 0, CHUNK, null)) > 0;) hash.update(chunk.subarray(0, n));
  return hash.digest('hex');
}

/** The sha256 (hex) of a regular file's bytes, never through a symlink. */
export function hashFileSync(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    return hashOpenFile(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether `file` is a regular file; a missing one, or a path through a file, is not. */
function isRegularFile(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}

export class ContextHashes {
  private dirty = false;
  /** The paths this build asked for: the others are looked for once, by prune(). */
  private readonly asked = new Set<string>();

  private constructor(
    private readonly contextDir: string,
    private readonly file: string,
    private readonly entries: Map<string, Entry>,
  ) {}

  /**
   * The digests kept in `dir` (a directory of the store) for the context at `contextDir`.
   * A missing or unreadable file is an empty table: it is only a cache.
   */
  static open(dir: string, contextDir: string): ContextHashes {
    const id = createHash('sha256').update(fs.realpathSync(contextDir)).digest('hex').slice(0, 32);
    const file = path.join(dir, `${id}.json`);
    return new ContextHashes(contextDir, file, new Map(Object.entries(readKeptTable<Entry>(file, VERSION, 'files'))));
  }

  /** The sha256 (hex) of the file at `rel` under the context (`full`), whose lstat is `st`. */
  digest(rel: string, full: string, st: fs.BigIntStats): string {
    this.asked.add(rel);
    const known = this.entries.get(rel);
    if (known !== undefined && entryKey(known) === statKey(st)) return known[5];
    const fd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const before = fs.fstatSync(fd, { bigint: true });
      const now = BigInt(Date.now()) * 1_000_000n;
      const digest = hashOpenFile(fd);
      const after = fs.fstatSync(fd, { bigint: true });
      // Kept only if the file did not change while read and cannot change unseen later.
      if (statKey(before) === statKey(after) && before.ctimeNs < now - RACY_NS && before.mtimeNs < now - RACY_NS) {
        this.entries.set(rel, [...statKey(after).split(':'), digest] as Entry);
        this.dirty = true;
      } else if (known !== undefined) {
        this.entries.delete(rel);
        this.dirty = true;
      }
      return digest;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Forgets the files that are no longer regular files of the context, and saves: run once a
   * build has hashed what it reads, so that the table follows the context instead of growing
   * with every file it ever held. Only the entries the build did not ask for are looked at.
   */
  prune(): void {
    for (const rel of this.entries.keys()) {
      if (this.asked.has(rel)) continue;
      if (isRegularFile(path.join(this.contextDir, rel))) continue;
      this.entries.delete(rel);
      this.dirty = true;
    }
    this.save();
  }

  /** Writes the table back if it changed: whole, a temp file named after this process (swept if it dies) renamed over the old one. */
  save(): void {
    if (!this.dirty) return;
    writeKeptTable(this.file, VERSION, 'files', Object.fromEntries(this.entries));
    this.dirty = false;
  }
}
