// The build cache: a step's key (its parent's key, the instruction after expansion, and the
// content digest of what it reads) to the layer it produced, kept in the store as JSON. Builds
// share it: each keeps what it set, used or deleted, and save() merges that into the file as it
// is then, under a lock on the cache directory, so builds running at once all keep their entries.
// A step's entry is saved as the step completes (record), so that a build that fails or is
// interrupted later still leaves it to the next, as BuildKit keeps each result as it is made.
// Caches imported with --cache-from (remote-cache.ts) are asked on a local miss: a hit there
// brings its layer into the store, checked, uncompressed as the store keeps a build's layers, and
// becomes a local entry.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '@tsrunc/runtime/platform';
import { withDirLock } from '../image/file-lock.js';
import { withPath } from '../image/fs-error.js';
import { storeUncompressed } from '../image/layer-compression.js';
import { processTag } from '../image/process-tag.js';
import type { BlobStore } from '../image/store.js';
import type { Layer } from './image-state.js';

export interface CacheEntry {
  layer: Layer | null;
  /** When the entry was last used, for pruning. */
  used: string;
}

/** A cache read from elsewhere (--cache-from): its entries, and how one's layer reaches the store. */
export interface CacheSource {
  /** What the warnings name: the reference or directory. */
  readonly name: string;
  /** The layer of `key` (null: the step made none), or undefined where the source has no entry. */
  layerOf(key: string): Layer | null | undefined;
  /** Copies the layer's blob into `blobs`, checked against its descriptor. */
  fetch(layer: Layer, blobs: BlobStore): Promise<void>;
}

export function stepKey(parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return `sha256:${hash.digest('hex')}`;
}

function readEntries(file: string): Record<string, CacheEntry> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  try {
    return JSON.parse(text) as Record<string, CacheEntry>;
  } catch (err) {
    throw new Error(`${file}: not a cache index (${(err as Error).message}); remove it to start with an empty cache`);
  }
}

export class BuildCache {
  private entries: Record<string, CacheEntry>;
  /** Entries this process set or used since the last save, and keys it deleted. */
  private readonly touched = new Set<string>();
  private readonly deleted = new Set<string>();
  /** A save waiting for the lock: it writes whatever is set before it starts, so one is enough. */
  private queued: Promise<void> | undefined;
  /** The entries this build used or made, in that order: what --cache-to exports. */
  private readonly used = new Set<string>();
  private readonly sources: CacheSource[] = [];

  constructor(private readonly file: string) {
    this.entries = readEntries(file);
  }

  get(key: string): CacheEntry | undefined {
    const entry = this.entries[key];
    if (entry) {
      entry.used = new Date().toISOString();
      this.touched.add(key);
    }
    return entry;
  }

  /** Asks `source` after the local entries, in the order added. */
  addSource(source: CacheSource): void {
    this.sources.push(source);
  }

  /**
   * The entry of `key` if its layer is in `blobs` and intact, else one of an imported cache's,
   * its layer fetched into `blobs` and recorded here. A corrupt layer (which `blobs` removes) is a
   * miss: `report` is told, the entry goes, and the step is built again.
   */
  async lookup(key: string, blobs: BlobStore, report: (line: string) => void): Promise<CacheEntry | undefined> {
    const entry = (await this.localEntry(key, blobs, report)) ?? (await this.importedEntry(key, blobs, report));
    if (entry) this.used.add(key);
    return entry;
  }

  private async localEntry(key: string, blobs: BlobStore, report: (line: string) => void): Promise<CacheEntry | undefined> {
    const entry = this.get(key);
    if (!entry?.layer) return entry;
    if (!blobs.has(entry.layer.descriptor.digest)) return undefined;
    try {
      await blobs.verify(entry.layer.descriptor.digest);
      return entry;
    } catch (err) {
      report(`cache: ${(err as Error).message}; building the step again`);
      this.delete(key);
      return undefined;
    }
  }

  /** A source's entry whose layer (if any) could be fetched; a source that fails it is a miss, told to `report`. */
  private async importedEntry(key: string, blobs: BlobStore, report: (line: string) => void): Promise<CacheEntry | undefined> {
    for (const source of this.sources) {
      const layer = source.layerOf(key);
      if (layer === undefined) continue;
      let local: Layer | null = null;
      try {
        if (layer) {
          await source.fetch(layer, blobs);
          local = { ...layer, descriptor: await storeUncompressed(blobs, layer.descriptor, layer.diffId) };
        }
      } catch (err) {
        report(`cache from ${source.name}: ${(err as Error).message}`);
        continue;
      }
      await this.record(key, local);
      return this.entries[key];
    }
    return undefined;
  }

  set(key: string, layer: Layer | null): void {
    this.entries[key] = { layer, used: new Date().toISOString() };
    this.deleted.delete(key);
    this.touched.add(key);
    this.used.add(key);
  }

  /** Sets the entry and saves it, durably, before it resolves. */
  async record(key: string, layer: Layer | null): Promise<void> {
    this.set(key, layer);
    await this.save();
  }

  all(): Record<string, CacheEntry> {
    return this.entries;
  }

  /** The entries this process found or made, each step's layer (null where it made none). */
  usedEntries(): Map<string, Layer | null> {
    const used = new Map<string, Layer | null>();
    for (const key of this.used) {
      const entry = this.entries[key];
      if (entry) used.set(key, entry.layer);
    }
    return used;
  }

  delete(key: string): void {
    delete this.entries[key];
    this.touched.delete(key);
    this.deleted.add(key);
  }

  /**
   * Merges this process' changes into the index as other builds left it, and replaces it
   * atomically: a crashed build leaves the previous index intact, a concurrent one its entries.
   */
  save(): Promise<void> {
    const dir = path.dirname(this.file);
    fs.mkdirSync(dir, { recursive: true });
    this.queued ??= withDirLock(dir, () => {
      this.queued = undefined;
      const merged = readEntries(this.file);
      for (const key of this.deleted) delete merged[key];
      for (const key of this.touched) merged[key] = this.entries[key]!;
      try {
        writeFileAtomic(this.file, JSON.stringify(merged), { writer: processTag() });
      } catch (err) {
        throw withPath(err, this.file);
      }
      this.entries = merged;
      this.touched.clear();
      this.deleted.clear();
    });
    return this.queued;
  }
}
