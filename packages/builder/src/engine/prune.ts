// `tsbuild prune`: blobs that no tagged image and no cache entry refers to are removed, and the
// layers extracted for RUN steps (run/layer-snapshots.ts: derived from blobs, made again on demand,
// and the largest use of disk a store has). With
// --all the cache goes too, and the RUN --mount=type=cache directories; with a size limit (--keep-storage, or cache.max_size in the config
// file) the least recently used cache entries go until the store fits. The caller holds the store
// locked exclusively (store-root.ts), so no running build has blobs not yet tagged or cached.
import fs from 'node:fs';
import path from 'node:path';
import type { ImageManifest } from '@tsrunc/spec-schemas';
import { SNAPSHOTS_DIR } from '../run/layer-snapshots.js';
import { CACHE_MOUNTS_DIR } from './run-mounts.js';
import type { BuilderStore } from './store-root.js';

// tsbuild.ts reads --shm-size and cache.max_size through this name; the parser is the runtime's
// (docker's units), which the store commands import directly.
export { parseByteSize as parseSize } from '@tsrunc/runtime';

function taggedBlobs(store: BuilderStore): Set<string> {
  const keep = new Set<string>();
  for (const d of store.layout.readIndex().manifests) {
    keep.add(d.digest);
    const manifest = store.layout.blobs.readJson<ImageManifest>(d.digest);
    keep.add(manifest.config.digest);
    for (const layer of manifest.layers) keep.add(layer.digest);
  }
  return keep;
}

function keptBlobs(store: BuilderStore, tagged: Set<string>): Set<string> {
  const keep = new Set(tagged);
  for (const entry of Object.values(store.cache.all())) if (entry.layer) keep.add(entry.layer.descriptor.digest);
  return keep;
}

/** Removes every cache mount directory; how many there were. */
function removeCacheMounts(store: BuilderStore): number {
  const dir = path.join(store.root, CACHE_MOUNTS_DIR);
  const count = fs.readdirSync(dir).length;
  fs.rmSync(dir, { recursive: true, force: true });
  return count;
}

/** Removes every extracted layer snapshot; how many there were. */
function removeSnapshots(store: BuilderStore): number {
  const dir = path.join(store.root, SNAPSHOTS_DIR);
  if (!fs.existsSync(dir)) return 0;
  const count = fs.readdirSync(dir).length;
  fs.rmSync(dir, { recursive: true, force: true });
  return count;
}

export interface PruneResult {
  removed: number;
  bytes: number;
  /** Extracted layer snapshots removed. */
  snapshots: number;
  /** RUN --mount=type=cache directories removed (by --all). */
  cacheMounts: number;
}

export async function prune(store: BuilderStore, options: { all: boolean; keepBytes?: number }): Promise<PruneResult> {
  let cacheMounts = 0;
  if (options.all) {
    for (const key of Object.keys(store.cache.all())) store.cache.delete(key);
    if (fs.existsSync(path.join(store.root, CACHE_MOUNTS_DIR))) cacheMounts = removeCacheMounts(store);
  }
  const dir = path.join(store.layout.dir, 'blobs', 'sha256');
  const sizes = new Map<string, number>(fs.readdirSync(dir).map((hex) => [`sha256:${hex}`, fs.statSync(path.join(dir, hex)).size]));
  const tagged = taggedBlobs(store);
  let keep = keptBlobs(store, tagged);
  if (options.keepBytes !== undefined) {
    const byAge = Object.entries(store.cache.all()).sort((a, b) => a[1].used.localeCompare(b[1].used));
    const total = () => [...keep].reduce((sum, digest) => sum + (sizes.get(digest) ?? 0), 0);
    while (total() > options.keepBytes && byAge.length > 0) {
      store.cache.delete(byAge.shift()![0]);
      keep = keptBlobs(store, tagged);
    }
  }
  let removed = 0, bytes = 0;
  for (const [digest, size] of sizes) {
    if (keep.has(digest)) continue;
    fs.rmSync(store.layout.blobs.path(digest));
    removed++;
    bytes += size;
  }
  await store.cache.save();
  return { removed, bytes, cacheMounts, snapshots: removeSnapshots(store) };
}
