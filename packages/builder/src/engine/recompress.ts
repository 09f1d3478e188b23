// -o ...,compression=zstd: the image an output receives with its gzip layers recompressed by
// Debian's zstd (as layers are read, see layer-reader.ts). The layers' diff_ids, and so the
// config, stay the same; the manifest names the new blobs, which join the store like any other.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { checkDocument, MEDIA_TYPES, type Descriptor } from '@tsrunc/spec-schemas';
import type { BlobStore } from '../image/store.js';
import type { FinalImage } from './export.js';

export async function withZstdLayers(blobs: BlobStore, image: FinalImage, level: number): Promise<FinalImage> {
  const layers: Descriptor[] = [];
  for (const layer of image.manifest.layers) {
    layers.push(layer.mediaType === MEDIA_TYPES.layerGzip ? await recompress(blobs, layer, level) : layer);
  }
  const manifest = { ...image.manifest, layers };
  const problem = checkDocument('manifest', manifest);
  if (problem) throw new Error(`the zstd manifest is invalid: ${problem}`);
  return { config: image.config, manifest };
}

async function recompress(blobs: BlobStore, layer: Descriptor, level: number): Promise<Descriptor> {
  const source = await blobs.open(layer.digest); // checked first: a corrupt layer is reported, not recompressed
  const tmp = blobs.tempPath();
  const zstd = spawn('zstd', ['-q', '-c', `-${level}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  zstd.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    zstd.on('error', (err) => reject(new Error(`zstd: ${err.message} (install Debian's zstd)`)));
    zstd.on('close', (code) => resolve(code ?? 1));
  });
  await Promise.all([
    pipeline(source, createGunzip(), zstd.stdin),
    pipeline(zstd.stdout, createWriteStream(tmp, { mode: 0o644 })),
  ]);
  const code = await exited;
  if (code !== 0) throw new Error(`zstd could not compress layer ${layer.digest}: ${stderr.trim() || `exit ${code}`}`);
  const ref = await blobs.putFile(tmp);
  return { mediaType: MEDIA_TYPES.layerZstd, digest: ref.digest, size: ref.size };
}
