// --push, `-o type=image,name=N,push=true` and `-o type=registry,name=N`: the built image sent to a
// registry under each name. Blobs the repository already has are not sent again (HEAD first), the
// others go up a few at once (mounted from another repository of the registry where the build
// pulled them from there), the config after the layers and the manifest last, so the tag never
// names an image whose blobs are not all there. The layers go gzipped: the pushed manifest is the
// built one with the compressed layers' descriptors, and the same config.
// --cache-to type=registry pushes its cache document the same way.
import { MEDIA_TYPES, type Descriptor, type ImageManifest } from '@tsrunc/spec-schemas';
import { canonicalJson } from '../image/layout.js';
import type { BlobStore } from '../image/store.js';
import { inParallel } from '../registry/parallel.js';
import type { Puller } from '../registry/pull.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { RemoteRepository } from '../registry/repository.js';
import { compressedImage, type FinalImage } from './export.js';
import { optionFields } from './option-fields.js';
import type { BuilderStore } from './store-root.js';

export interface ImageOutput {
  name: string;
  push: boolean;
}

const IMAGE_OUTPUT_KEYS = new Set(['type', 'name', 'push']);
const PARALLEL_UPLOADS = 3;

/** `-o type=image|registry,...` (BuildKit's image exporter); undefined for the file outputs export.ts knows. */
export function parseImageOutput(text: string): ImageOutput | undefined {
  const fields = optionFields(text);
  const type = fields.get('type');
  if (type !== 'image' && type !== 'registry') return undefined;
  for (const key of fields.keys()) {
    if (!IMAGE_OUTPUT_KEYS.has(key)) throw new Error(`-o ${text}: unknown option "${key}" (${[...IMAGE_OUTPUT_KEYS].join(', ')})`);
  }
  const name = fields.get('name');
  if (!name) throw new Error(`-o ${text}: name= is required`);
  const push = fields.get('push');
  if (push !== undefined && push !== 'true' && push !== 'false') throw new Error(`-o ${text}: push must be true or false`);
  return { name, push: type === 'registry' || push === 'true' };
}

/**
 * HEAD first: it is bodiless, so it also earns the push authorisation the streamed upload then
 * carries. A blob the build pulled from another repository of the registry is mounted from there.
 */
async function sendBlob(repo: RemoteRepository, blobs: BlobStore, descriptor: Descriptor, registry: Puller): Promise<void> {
  if (await repo.hasBlob(descriptor.digest)) return;
  await repo.uploadBlob(descriptor, blobs, registry.originOf(repo.domain, descriptor.digest));
}

/**
 * Pushes `manifest` (its config and layers in `blobs`) under the tag of `name`: the layers, then
 * the config, the manifest last. Returns the manifest's digest, which the registry agreed on.
 */
export async function pushManifest(blobs: BlobStore, manifest: ImageManifest, name: string, registry: Puller): Promise<string> {
  const ref = parseReference(name);
  if (ref.tag === undefined) throw new Error(`push ${name}: a push needs a tag, not only a digest`);
  try {
    const repo = new RemoteRepository(registry.session(ref.domain), ref.repository, true);
    const layers = [...new Map(manifest.layers.map((l) => [l.digest, l])).values()];
    await inParallel(layers, PARALLEL_UPLOADS, (layer) => sendBlob(repo, blobs, layer, registry));
    await sendBlob(repo, blobs, manifest.config, registry);
    const digest = await repo.putManifest(ref.tag, canonicalJson(manifest), manifest.mediaType ?? MEDIA_TYPES.manifest);
    // What is there now can be mounted from there by the next push of this build.
    for (const d of [manifest.config, ...layers]) registry.noteOrigin(ref.domain, ref.repository, d.digest);
    return digest;
  } catch (err) {
    throw new Error(`push ${formatReference(ref)}: ${(err as Error).message}`);
  }
}

/**
 * Pushes the image to `name`, its layers gzipped as BuildKit pushes them, and returns the manifest
 * digest the registry now has under its tag.
 */
export async function pushImage(store: BuilderStore, image: FinalImage, name: string, registry: Puller): Promise<string> {
  const blobs = store.layout.blobs;
  blobs.putBytes(canonicalJson(image.config)); // the store has it once tagged; an untagged build may not
  return pushManifest(blobs, (await compressedImage(store, image, 'gzip')).manifest, name, registry);
}
