// The build cache as a distributable document, in the layout of BuildKit's cache exporters
// (cache/remotecache/v1, with image-manifest=true, their default since v0.21): an OCI image
// manifest whose config is a cache config (application/vnd.buildkit.cacheconfig.v0) and whose
// layers are the cached steps' layers, each annotated with its uncompressed digest. The config
// lists the layers and the records: a record per step, its digest the step's key, its result the
// index of the layer the step made (none where it made no layer). The keys are tsbuild's own, so
// a record's layer is that step's diff alone, not a chain as in BuildKit's records: such a cache
// is read back by tsbuild, and a BuildKit cache read by tsbuild simply never matches a key.
import { MEDIA_TYPES, type Descriptor, type ImageManifest } from '@tsrunc/spec-schemas';
import { canonicalJson } from '../image/layout.js';
import { sha256Digest } from '../image/store.js';
import { ociLayerType } from '../registry/media-types.js';
import type { Layer } from './image-state.js';

const CACHE_CONFIG_TYPE = 'application/vnd.buildkit.cacheconfig.v0';
/** The annotation containerd and BuildKit give a compressed layer's descriptor: its diffID. */
const UNCOMPRESSED = 'containerd.io/uncompressed';
const DIGEST = /^sha256:[0-9a-f]{64}$/;

interface CacheLayer {
  blob: string;
  /** -1: a layer with no parent (each of tsbuild's is one step's diff). */
  parent: number;
  /** createdAt: when the step made it, which a rebuild from this cache gives its history entry. */
  annotations: { mediaType: string; diffID: string; size: number; createdAt?: string };
}

interface CacheRecord {
  digest: string;
  layers?: { layer: number }[];
}

interface CacheConfig {
  layers?: CacheLayer[];
  records?: CacheRecord[];
}

export interface CacheDocument {
  manifest: ImageManifest;
  /** The cache config's bytes, which the manifest's config descriptor describes. */
  config: Buffer;
}

/** The document of `entries` (step key to its layer), the same bytes for the same entries. */
export function writeCacheDocument(entries: Map<string, Layer | null>): CacheDocument {
  const layers: Layer[] = [];
  const indexOf = new Map<string, number>();
  const records: CacheRecord[] = [];
  for (const key of [...entries.keys()].sort()) {
    const layer = entries.get(key)!;
    if (!layer) {
      records.push({ digest: key });
      continue;
    }
    let index = indexOf.get(layer.descriptor.digest);
    if (index === undefined) {
      index = layers.push(layer) - 1;
      indexOf.set(layer.descriptor.digest, index);
    }
    records.push({ digest: key, layers: [{ layer: index }] });
  }
  const config: CacheConfig = {
    layers: layers.map(({ descriptor, diffId, created }) => ({
      blob: descriptor.digest, parent: -1,
      annotations: { mediaType: descriptor.mediaType, diffID: diffId, size: descriptor.size, ...(created ? { createdAt: created } : {}) },
    })),
    records,
  };
  const configBytes = canonicalJson(config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: CACHE_CONFIG_TYPE, digest: sha256Digest(configBytes), size: configBytes.length },
    layers: layers.map(({ descriptor, diffId }) => ({
      mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, annotations: { [UNCOMPRESSED]: diffId },
    })),
  };
  return { manifest, config: configBytes };
}

/**
 * The entries of a cache document: `manifest` (already checked against its digest) and its
 * config's parsed JSON. Anything that is not such a document, or a layer that is not one tsbuild
 * can apply, is refused with the problem named; `where` names the cache.
 */
export function readCacheDocument(manifest: ImageManifest, config: unknown, where: string): Map<string, Layer | null> {
  const bad = (why: string) => new Error(`${where}: not a build cache: ${why}`);
  if (manifest.config?.mediaType !== CACHE_CONFIG_TYPE) throw bad(`its config is ${String(manifest.config?.mediaType)}, not ${CACHE_CONFIG_TYPE}`);
  const doc = config as CacheConfig;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.layers ?? []) || !Array.isArray(doc.records ?? [])) throw bad('the cache config has no layers and records lists');
  const inManifest = new Map<string, Descriptor>((manifest.layers ?? []).map((d) => [d.digest, d]));
  const layers = (doc.layers ?? []).map((l, i): Layer => {
    const descriptor = inManifest.get(l?.blob);
    if (!descriptor) throw bad(`layer ${i} (${String(l?.blob)}) is not among the manifest's layers`);
    const mediaType = ociLayerType(descriptor.mediaType);
    if (mediaType === undefined) throw bad(`layer ${descriptor.digest} has media type ${descriptor.mediaType}, not a layer tsbuild can apply`);
    const diffId = descriptor.annotations?.[UNCOMPRESSED] ?? l.annotations?.diffID;
    if (typeof diffId !== 'string' || !DIGEST.test(diffId)) throw bad(`layer ${descriptor.digest} has no uncompressed digest (${UNCOMPRESSED})`);
    if (!DIGEST.test(descriptor.digest) || !Number.isSafeInteger(descriptor.size) || descriptor.size < 0) throw bad(`layer ${String(descriptor.digest)} has a malformed descriptor`);
    const createdAt = l.annotations?.createdAt;
    const created = typeof createdAt === 'string' && !Number.isNaN(Date.parse(createdAt)) ? { created: createdAt } : {};
    return { descriptor: { mediaType, digest: descriptor.digest, size: descriptor.size }, diffId, ...created };
  });
  const entries = new Map<string, Layer | null>();
  for (const record of doc.records ?? []) {
    if (typeof record?.digest !== 'string') throw bad('a record without a digest');
    const results = record.layers ?? [];
    // BuildKit's own records (chains, several results) never match a tsbuild key: left out.
    if (results.length > 1) continue;
    const index = results[0]?.layer;
    if (index !== undefined && layers[index] === undefined) throw bad(`record ${record.digest} names layer ${String(index)}, which the config does not list`);
    entries.set(record.digest, index === undefined ? null : layers[index]!);
  }
  return entries;
}
