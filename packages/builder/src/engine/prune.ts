// `tsbuild prune`: blobs that no tagged image and no cache entry refers to are removed; with
// --all the cache goes too.
import fs from 'node:fs';
import path from 'node:path';
import type { ImageManifest } from '@tsrunc/spec-schemas';
import type { BuilderStore } from './store-root.js';

export function prune(store: BuilderStore, all: boolean): { removed: number; bytes: number } {
  if (all) for (const key of Object.keys(store.cache.all())) store.cache.delete(key);
  const keep = new Set<string>();
  for (const d of store.layout.readIndex().manifests) {
    keep.add(d.digest);
    const manifest = store.layout.blobs.readJson<ImageManifest>(d.digest);
    keep.add(manifest.config.digest);
    for (const layer of manifest.layers) keep.add(layer.digest);
  }
  for (const entry of Object.values(store.cache.all())) if (entry.layer) keep.add(entry.layer.descriptor.digest);
  const dir = path.join(store.layout.dir, 'blobs', 'sha256');
  let removed = 0, bytes = 0;
  for (const hex of fs.readdirSync(dir)) {
    if (keep.has(`sha256:${hex}`)) continue;
    bytes += fs.statSync(path.join(dir, hex)).size;
    fs.rmSync(path.join(dir, hex));
    removed++;
  }
  store.cache.save();
  return { removed, bytes };
}
