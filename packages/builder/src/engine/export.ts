// The built image: its config and manifest, validated against the image-spec schemas, tagged in
// the local store and written where -o asks (an OCI layout, an OCI archive, a docker archive).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkDocument, MEDIA_TYPES, type History, type ImageConfig, type ImageManifest } from '@tsrunc/spec-schemas';
import type { LayerCompression } from '../image/layer-compression.js';
import { canonicalJson, OciLayout, writeDockerArchive, writeOciArchive } from '../image/layout.js';
import { sha256Digest } from '../image/store.js';
import type { ImageState } from './image-state.js';
import { optionFields } from './option-fields.js';
import type { BuilderStore } from './store-root.js';

export interface Output {
  type: 'oci' | 'oci-archive' | 'docker-archive';
  dest: string;
  /** The layers' compression in this output (the store keeps the layers builds make uncompressed). */
  compression: LayerCompression;
  /** Unset: the compression's own default (layer-compression.ts). */
  compressionLevel?: number;
}

/** BuildKit's exporter options that apply here; others are refused rather than silently ignored. */
const OUTPUT_KEYS = new Set(['type', 'dest', 'compression', 'compression-level', 'force-compression']);

export interface FinalImage {
  config: ImageConfig;
  manifest: ImageManifest;
}

/**
 * History entries without a time (steps that made no layer) get their neighbours', by BuildKit's
 * exporter's rule: those before the build's first new layer take that layer's time, later ones
 * the time of the last layer before them. Nothing is read from the clock, so a rebuild from the
 * cache, whose layers keep their times, gives the same history.
 */
function timedHistory(history: readonly History[]): History[] {
  const firstUntimed = history.findIndex((h) => h.created === undefined);
  if (firstUntimed < 0) return [...history];
  const timed = (h: History) => h.created !== undefined;
  let created = (history.slice(firstUntimed).find(timed) ?? history.findLast(timed))?.created;
  let untimedSeen = false;
  return history.map((h) => {
    if (h.created === undefined) {
      untimedSeen = true;
      return created === undefined ? h : { created, ...h };
    }
    if (untimedSeen) created = h.created;
    return h;
  });
}

/**
 * The image of `state`: created when its last history entry was (BuildKit's choice, which keeps a
 * cached rebuild's digest), or at `now` if no entry has a time.
 */
export function finalizeImage(state: ImageState, now: string): FinalImage {
  const history = timedHistory(state.config.history ?? []);
  const config: ImageConfig = {
    ...state.config,
    created: history.findLast((h) => h.created !== undefined)?.created ?? now,
    ...(state.config.history ? { history } : {}),
    rootfs: { type: 'layers', diff_ids: state.layers.map((l) => l.diffId) },
  };
  const configBytes = canonicalJson(config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, digest: sha256Digest(configBytes), size: configBytes.length },
    layers: state.layers.map((l) => l.descriptor),
  };
  for (const [kind, doc] of [['imageConfig', config], ['manifest', manifest]] as const) {
    const problem = checkDocument(kind, doc);
    if (problem) throw new Error(`the built ${kind} is invalid: ${problem}`);
  }
  return { config, manifest };
}

/** "-o type=oci,dest=DIR" -> { type, dest }. */
export function parseOutput(text: string): Output {
  const fields = optionFields(text);
  const type = fields.get('type');
  if (type !== 'oci' && type !== 'oci-archive' && type !== 'docker-archive') {
    throw new Error(`-o ${text}: type must be oci, oci-archive or docker-archive`);
  }
  const dest = fields.get('dest');
  if (!dest) throw new Error(`-o ${text}: dest= is required`);
  for (const key of fields.keys()) {
    if (!OUTPUT_KEYS.has(key)) throw new Error(`-o ${text}: unknown option "${key}" (${[...OUTPUT_KEYS].join(', ')})`);
  }
  const compression = fields.get('compression') ?? 'gzip';
  if (compression !== 'gzip' && compression !== 'zstd' && compression !== 'uncompressed') throw new Error(`-o ${text}: compression must be gzip, zstd or uncompressed`);
  const levelField = fields.get('compression-level');
  if (levelField === undefined) return { type, dest: path.resolve(dest), compression };
  const level = Number(levelField);
  const highest = compression === 'gzip' ? 9 : 19;
  if (!Number.isInteger(level) || level < 1 || level > highest) throw new Error(`-o ${text}: compression-level must be 1 to ${highest} for ${compression}`);
  return { type, dest: path.resolve(dest), compression, compressionLevel: level };
}

/** "registry/name:tag" -> "tag", the ref name skopeo's oci:DIR:TAG and umoci look for. */
export function tagOf(reference: string): string {
  const last = reference.slice(reference.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon < 0 ? 'latest' : last.slice(colon + 1);
}

async function writeLayout(store: BuilderStore, image: FinalImage, dir: string, refName: string): Promise<void> {
  const layout = await OciLayout.open(dir, { create: true });
  // Through the destination store's verified import: a store blob corrupted on disk is not passed on.
  for (const layer of image.manifest.layers) await layout.blobs.importFile(store.layout.blobs.path(layer.digest), layer);
  await layout.addManifest(image.manifest, image.config, refName);
}

/** `image` with its layers as an output in `compression` carries them; the config (and so the diff_ids) unchanged. */
export async function compressedImage(store: BuilderStore, image: FinalImage, compression: LayerCompression, level?: number): Promise<FinalImage> {
  const manifest = { ...image.manifest, layers: await store.compressed.convert(image.manifest.layers, compression, level) };
  const problem = checkDocument('manifest', manifest);
  if (problem) throw new Error(`the ${compression} manifest is invalid: ${problem}`);
  return { config: image.config, manifest };
}

export async function exportImage(store: BuilderStore, image: FinalImage, tags: string[], outputs: Output[]): Promise<void> {
  for (const tag of tags) await store.layout.addManifest(image.manifest, image.config, tag);
  const name = tags[0] ?? 'image:latest';
  for (const output of outputs) {
    const exported = await compressedImage(store, image, output.compression, output.compressionLevel);
    if (output.type === 'oci') {
      await writeLayout(store, exported, output.dest, tagOf(name));
      continue;
    }
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-export-'));
    try {
      await writeLayout(store, exported, scratch, tagOf(name));
      if (output.type === 'oci-archive') await writeOciArchive(scratch, output.dest);
      else await writeDockerArchive(scratch, tagOf(name), output.dest, name.includes(':') ? name : `${name}:latest`);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
}
