// Layers leave the store compressed; inside it, the layers builds make stay uncompressed tars
// (their digest is their diffID). A cold build then waits for no compression at all: gzip of gcc's
// 207 MB layer was 3 of its 4 s of commit, and BuildKit in dockerd and buildah keep their layers
// uncompressed too. An image is compressed when it leaves: an -o output, a push, a --cache-to.
// Each compressed form is kept in the store (its digest in a table, the blob among the others),
// so the next export or push of the same layer compresses nothing.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MEDIA_TYPES, type Descriptor } from '@tsrunc/spec-schemas';
import { readKeptTable, writeKeptTable } from './kept-table.js';
import { openLayerTar } from './layer-reader.js';
import { createParallelGzip } from './parallel-gzip.js';
import type { BlobStore } from './store.js';

export type LayerCompression = 'gzip' | 'zstd' | 'uncompressed';
type Compressor = Exclude<LayerCompression, 'uncompressed'>;

/**
 * gzip level 2 took half the time of zlib's default (6) on a Debian root filesystem's tar, for 6%
 * more bytes (Bun, one core: 1.33 s against 2.64 s for 60 MB, 26.0 MB against 24.5 MB); zstd's 3
 * is its own default.
 */
const DEFAULT_LEVEL: Record<Compressor, number> = { gzip: 2, zstd: 3 };

const MEDIA_TYPE: Record<LayerCompression, string> = {
  gzip: MEDIA_TYPES.layerGzip,
  zstd: MEDIA_TYPES.layerZstd,
  uncompressed: MEDIA_TYPES.layer,
};

const VERSION = 1;

/**
 * Whether `layer` is rewritten for an output in `compression`: an uncompressed layer always is; a
 * compressed one (pulled) is kept as it is, except gzip for a zstd output, as BuildKit converts it.
 */
function needsCompression(layer: Descriptor, compression: Compressor): boolean {
  return layer.mediaType === MEDIA_TYPES.layer || (compression === 'zstd' && layer.mediaType === MEDIA_TYPES.layerGzip);
}

/** The store's compressed forms of its layers: `${digest} ${mediaType} ${level}` to the blob made from it. */
export class CompressedLayers {
  private readonly forms = new Map<string, { digest: string; size: number }>();
  private dirty = false;

  private constructor(private readonly blobs: BlobStore, private readonly file: string) {
    for (const [key, form] of Object.entries(readKeptTable<{ digest: string; size: number }>(file, VERSION, 'forms'))) this.forms.set(key, form);
  }

  /** The table kept in the store at `root`. A missing or unreadable file is an empty table: it is only a cache. */
  static open(blobs: BlobStore, root: string): CompressedLayers {
    return new CompressedLayers(blobs, path.join(root, 'cache', 'compressed-layers.json'));
  }

  /** `layers` as an output in `compression` carries them, each compressed form made once and kept. */
  async convert(layers: readonly Descriptor[], compression: LayerCompression, level?: number): Promise<Descriptor[]> {
    if (compression === 'uncompressed') return [...layers];
    const converted: Descriptor[] = [];
    for (const layer of layers) {
      converted.push(needsCompression(layer, compression) ? await this.form(layer, compression, level ?? DEFAULT_LEVEL[compression]) : layer);
    }
    this.save();
    return converted;
  }

  private async form(layer: Descriptor, compression: Compressor, level: number): Promise<Descriptor> {
    const mediaType = MEDIA_TYPE[compression];
    const key = `${layer.digest} ${mediaType} ${level}`;
    const known = this.forms.get(key);
    // A form pruned from the store since is made again.
    if (known && this.blobs.has(known.digest)) return { mediaType, ...known };
    const tar = await openLayerTar(await this.blobs.open(layer.digest)); // checked first: a corrupt layer is reported, not compressed
    const made = await storeCompressed(this.blobs, tar, compression, level);
    this.forms.set(key, made);
    this.dirty = true;
    return { mediaType, ...made };
  }

  /** Writes the table back if it changed; forms whose blob is gone are forgotten. */
  private save(): void {
    for (const [key, form] of this.forms) {
      if (this.blobs.has(form.digest)) continue;
      this.forms.delete(key);
      this.dirty = true;
    }
    if (!this.dirty) return;
    writeKeptTable(this.file, VERSION, 'forms', Object.fromEntries(this.forms));
    this.dirty = false;
  }
}

/** Compresses `tar` into the blob store, hashing what is written; its digest and size. */
async function storeCompressed(blobs: BlobStore, tar: Readable, compression: Compressor, level: number): Promise<{ digest: string; size: number }> {
  const tmp = blobs.tempPath();
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    if (compression === 'gzip') {
      await pipeline(tar, createParallelGzip(level), hasher, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    } else {
      await zstd(tar, hasher, tmp, level);
    }
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return blobs.putHashed(tmp, `sha256:${hash.digest('hex')}`);
}

/** Debian's zstd (Node 20 has none of its own) from `tar` into `tmp`, through `hasher`. */
async function zstd(tar: Readable, hasher: Transform, tmp: string, level: number): Promise<void> {
  const child = spawn('zstd', ['-q', '-c', `-${level}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (err) => reject(new Error(`zstd: ${err.message} (install Debian's zstd)`)));
    child.on('close', (code) => resolve(code ?? 1));
  });
  await Promise.all([
    pipeline(tar, child.stdin),
    pipeline(child.stdout, hasher, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 })),
  ]);
  const code = await exited;
  if (code !== 0) throw new Error(`zstd could not compress a layer: ${stderr.trim() || `exit ${code}`}`);
}

/**
 * The uncompressed form of a compressed layer in the store (one a --cache-from brought), stored
 * beside it and checked against its diffID: a step from an imported cache gives the image the
 * step gave where the cache was made.
 */
export async function storeUncompressed(blobs: BlobStore, layer: Descriptor, diffId: string): Promise<Descriptor> {
  if (layer.mediaType === MEDIA_TYPES.layer) return layer;
  if (blobs.has(diffId)) return { mediaType: MEDIA_TYPES.layer, digest: diffId, size: fs.statSync(blobs.path(diffId)).size };
  const tmp = blobs.tempPath();
  try {
    await pipeline(await openLayerTar(await blobs.open(layer.digest)), fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  const { size } = await blobs.putFile(tmp, diffId).catch((err: Error) => {
    throw new Error(`layer ${layer.digest} does not uncompress to its diffID ${diffId}: ${err.message}`);
  });
  return { mediaType: MEDIA_TYPES.layer, digest: diffId, size };
}
