// --cache-to and --cache-from, as BuildKit's registry and local cache backends: the build cache's
// entries written as a cache document (cache-manifest.ts) to a registry tag (pushed as images
// are) or to an OCI layout directory (tagged in its index.json), and read back from either into
// the build's cache as a source asked on a local miss, each layer fetched only when a step hits
// it, checked against its descriptor as every pulled blob is. mode=min exports the steps whose
// layers are the final image's (and those that made no layer, which cost nothing); mode=max
// every step the build ran or found, in every stage.
import type { Descriptor, ImageManifest } from '@tsrunc/spec-schemas';
import { canonicalJson, OciLayout } from '../image/layout.js';
import type { BlobStore } from '../image/store.js';
import { manifestKind } from '../registry/media-types.js';
import type { Puller } from '../registry/pull.js';
import { formatReference, manifestSelector, parseReference } from '../registry/reference.js';
import { RemoteRepository } from '../registry/repository.js';
import type { CacheSource } from './cache.js';
import { readCacheDocument, writeCacheDocument } from './cache-manifest.js';
import type { Layer } from './image-state.js';
import { optionFields } from './option-fields.js';
import type { Progress } from './progress.js';
import { pushManifest } from './push.js';
import type { BuilderStore } from './store-root.js';

export type CacheMode = 'min' | 'max';

export type CacheSpec =
  | { type: 'registry'; ref: string }
  | { type: 'local'; dir: string; tag: string };

export interface CacheExport {
  spec: CacheSpec;
  mode: CacheMode;
  /** ignore-error=true: a failed export is a warning, not the build's failure. */
  ignoreError: boolean;
}

const DEFAULT_TAG = 'latest';

/** Options that name BuildKit's defaults, which are tsbuild's only way: accepted when true. */
const ALWAYS_TRUE = new Set(['oci-mediatypes', 'image-manifest']);

function fieldsOf(text: string): Map<string, string> {
  // A bare reference is a registry cache, as buildx reads `--cache-from user/app:cache`.
  if (!text.includes('=')) return new Map([['type', 'registry'], ['ref', text]]);
  return optionFields(text);
}

function parseSpec(text: string, flag: string, keys: Record<'registry' | 'local', string[]>, dirKey: 'src' | 'dest'): { spec: CacheSpec; fields: Map<string, string> } {
  const fields = fieldsOf(text);
  const bad = (why: string) => new Error(`${flag} ${text}: ${why}`);
  const type = fields.get('type');
  if (type !== 'registry' && type !== 'local') throw bad(`unknown cache type "${type ?? ''}" (registry, local)`);
  for (const [key, value] of fields) {
    if (ALWAYS_TRUE.has(key)) {
      if (value !== 'true') throw bad(`${key}=${value}: tsbuild writes caches only with ${key}=true`);
    } else if (key !== 'type' && !keys[type].includes(key)) {
      throw bad(`unknown option "${key}" for type=${type} (${[...keys[type], ...ALWAYS_TRUE].join(', ')})`);
    }
  }
  if (type === 'registry') {
    const ref = fields.get('ref');
    if (!ref) throw bad('ref= is required');
    parseReference(ref); // a malformed reference is refused before the build starts
    return { spec: { type, ref }, fields };
  }
  const dir = fields.get(dirKey);
  if (!dir) throw bad(`${dirKey}= is required`);
  const tag = fields.get('tag') ?? DEFAULT_TAG;
  if (tag === '') throw bad('tag= is empty');
  return { spec: { type, dir, tag }, fields };
}

/** `--cache-from type=registry,ref=REF` or `type=local,src=DIR[,tag=TAG]` (or a bare REF). */
export function parseCacheFrom(text: string): CacheSpec {
  return parseSpec(text, '--cache-from', { registry: ['ref'], local: ['src', 'tag'] }, 'src').spec;
}

/** `--cache-to type=registry,ref=REF|type=local,dest=DIR[,tag=TAG]` with `mode=min|max` and `ignore-error=true|false`. */
export function parseCacheTo(text: string): CacheExport {
  const options = ['mode', 'ignore-error'];
  const { spec, fields } = parseSpec(text, '--cache-to', { registry: ['ref', ...options], local: ['dest', 'tag', ...options] }, 'dest');
  const mode = fields.get('mode') ?? 'min';
  if (mode !== 'min' && mode !== 'max') throw new Error(`--cache-to ${text}: mode must be min or max`);
  const ignoreError = fields.get('ignore-error') ?? 'false';
  if (ignoreError !== 'true' && ignoreError !== 'false') throw new Error(`--cache-to ${text}: ignore-error must be true or false`);
  if (spec.type === 'registry' && parseReference(spec.ref).tag === undefined) throw new Error(`--cache-to ${text}: the cache is pushed under a tag: the ref needs one`);
  return { spec, mode, ignoreError: ignoreError === 'true' };
}

function describeCache(spec: CacheSpec): string {
  return spec.type === 'registry' ? formatReference(parseReference(spec.ref)) : `${spec.dir}:${spec.tag}`;
}

/** The entries `mode` exports of those the build used: `finalLayers` are the exported image's. */
function entriesToExport(used: Map<string, Layer | null>, mode: CacheMode, finalLayers: Descriptor[]): Map<string, Layer | null> {
  if (mode === 'max') return used;
  const inImage = new Set(finalLayers.map((l) => l.digest));
  return new Map([...used].filter(([, layer]) => layer === null || inImage.has(layer.descriptor.digest)));
}

/** Reads the cache `spec` names; its layers are fetched only as steps hit them. Throws if it cannot be read. */
async function openCacheSource(spec: CacheSpec, blobs: BlobStore, registry: Puller): Promise<CacheSource> {
  const name = describeCache(spec);
  if (spec.type === 'local') {
    const layout = await OciLayout.open(spec.dir, { create: false });
    const { manifest, config } = layout.resolve(spec.tag);
    const entries = readCacheDocument(manifest, config, name);
    return {
      name,
      layerOf: (key) => entries.get(key),
      fetch: ({ descriptor }, into) => into.importFile(layout.blobs.path(descriptor.digest), descriptor),
    };
  }
  const ref = parseReference(spec.ref);
  const repo = new RemoteRepository(registry.session(ref.domain), ref.repository, false);
  const fetched = await repo.manifest(manifestSelector(ref));
  if (manifestKind(fetched.mediaType) !== 'manifest') throw new Error(`${name}: not a build cache: an index (a cache written with image-manifest=false is not read)`);
  const manifest = JSON.parse(fetched.bytes.toString('utf8')) as ImageManifest;
  if (typeof manifest.config?.digest !== 'string' || !Number.isSafeInteger(manifest.config.size)) throw new Error(`${name}: not a build cache: the manifest has no config descriptor`);
  await repo.fetchBlob(manifest.config, blobs);
  const entries = readCacheDocument(manifest, blobs.readJson<unknown>(manifest.config.digest), name);
  return {
    name,
    layerOf: (key) => entries.get(key),
    fetch: async ({ descriptor }, into) => {
      await repo.fetchBlob(descriptor, into);
      registry.noteOrigin(ref.domain, ref.repository, descriptor.digest);
    },
  };
}

/** `entries` with their layers gzipped, as BuildKit's caches carry them; the diffIDs stay. */
async function gzipped(entries: Map<string, Layer | null>, store: BuilderStore): Promise<Map<string, Layer | null>> {
  const layers = [...entries.values()].filter((l): l is Layer => l !== null);
  const converted = await store.compressed.convert(layers.map((l) => l.descriptor), 'gzip');
  const byDigest = new Map(layers.map((l, i) => [l.descriptor.digest, converted[i]!]));
  return new Map([...entries].map(([key, layer]) => [key, layer && { ...layer, descriptor: byDigest.get(layer.descriptor.digest)! }]));
}

/** Writes `entries` to where `spec` names; returns the cache manifest's digest. */
async function exportCache(spec: CacheSpec, entries: Map<string, Layer | null>, store: BuilderStore, registry: Puller): Promise<string> {
  const { manifest, config } = writeCacheDocument(await gzipped(entries, store));
  const blobs = store.layout.blobs;
  if (spec.type === 'registry') {
    blobs.putBytes(config);
    return pushManifest(blobs, manifest, spec.ref, registry);
  }
  const layout = await OciLayout.open(spec.dir, { create: true });
  // Each layer is copied checked: the directory gets only what the store holds intact.
  for (const layer of manifest.layers) await layout.blobs.importFile(blobs.path(layer.digest), layer);
  layout.blobs.putBytes(config);
  const ref = layout.blobs.putBytes(canonicalJson(manifest));
  await layout.list({ mediaType: manifest.mediaType!, digest: ref.digest, size: ref.size }, spec.tag);
  return ref.digest;
}

/**
 * --cache-from: each cache read and added to the build's, as BuildKit's "importing cache
 * manifest" vertices. One that cannot be read (absent, unreachable, not a cache) is a warning and
 * the build goes on without it, as BuildKit does.
 */
export async function importCaches(specs: CacheSpec[], store: BuilderStore, registry: Puller, progress: Progress): Promise<void> {
  for (const spec of specs) {
    const step = progress.step(`importing cache manifest from ${describeCache(spec)}`);
    try {
      store.cache.addSource(await openCacheSource(spec, store.layout.blobs, registry));
    } catch (err) {
      step.log(`WARNING: the cache is not used: ${(err as Error).message}`);
    }
    step.done();
  }
}

/** --cache-to: the build's entries, as each one's mode selects them, written out; a failure fails the build unless ignore-error=true. */
export async function exportCaches(exports: CacheExport[], store: BuilderStore, finalLayers: Descriptor[], registry: Puller, progress: Progress): Promise<void> {
  const used = store.cache.usedEntries();
  for (const { spec, mode, ignoreError } of exports) {
    const name = describeCache(spec);
    const step = progress.step(`exporting cache to ${name}`);
    try {
      const entries = entriesToExport(used, mode, finalLayers);
      const digest = await exportCache(spec, entries, store, registry);
      step.log(`cache manifest ${digest}: ${entries.size} steps (mode=${mode})`);
    } catch (err) {
      const message = `--cache-to ${name}: ${(err as Error).message}`;
      if (!ignoreError) throw new Error(message);
      step.log(`WARNING: ${message}`);
    }
    step.done();
  }
}
