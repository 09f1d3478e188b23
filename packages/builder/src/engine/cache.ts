// The build cache: a step's key (its parent's key, the instruction after expansion, and the
// content digest of what it reads) to the layer it produced, kept in the store as JSON.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Layer } from './image-state.js';

export interface CacheEntry {
  layer: Layer | null;
  /** When the entry was last used, for pruning. */
  used: string;
}

export function stepKey(parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return `sha256:${hash.digest('hex')}`;
}

export class BuildCache {
  private readonly entries: Record<string, CacheEntry>;

  constructor(private readonly file: string) {
    this.entries = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, CacheEntry>) : {};
  }

  get(key: string): CacheEntry | undefined {
    const entry = this.entries[key];
    if (entry) entry.used = new Date().toISOString();
    return entry;
  }

  set(key: string, layer: Layer | null): void {
    this.entries[key] = { layer, used: new Date().toISOString() };
  }

  all(): Record<string, CacheEntry> {
    return this.entries;
  }

  delete(key: string): void {
    delete this.entries[key];
  }

  /** Atomic replace: a crashed build leaves the previous index intact. */
  save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.entries));
    fs.renameSync(tmp, this.file);
  }
}
