// The image a stage starts FROM: scratch, an OCI layout on disk (oci-layout://DIR[:TAG]), an image
// of the local store (a tag built or pulled here), or an image of a registry, pulled for the build's
// platform into the content store.
import type { ImageConfig, ImageManifest } from '@tsrunc/spec-schemas';
import { OciLayout } from '../image/layout.js';
import type { Puller } from '../registry/pull.js';
import { scratchImage, type ImageState } from './image-state.js';
import { normalizeReference, type BuilderStore } from './store-root.js';

export interface BaseImage {
  state: ImageState;
  /** Identifies the base for the cache: the manifest digest, or "scratch". */
  key: string;
}

/** A base's layers with the diff_ids its config gives them. */
export function baseState(manifest: ImageManifest, config: ImageConfig, label: string): ImageState {
  const layers = manifest.layers.map((descriptor, i) => {
    const diffId = config.rootfs.diff_ids[i];
    if (!diffId) throw new Error(`${label}: the config has fewer diff_ids than the manifest has layers`);
    return { descriptor, diffId };
  });
  return { config: structuredClone(config), layers };
}

async function fromLayout(store: BuilderStore, source: OciLayout, ref: string | undefined, label: string): Promise<BaseImage> {
  const { manifest, config, manifestDescriptor } = source.resolve(ref);
  const state = baseState(manifest, config, label);
  // Another layout's blobs enter the store only through its verified import: a layer whose bytes
  // do not match its descriptor is refused rather than stored under a digest other images trust.
  if (source !== store.layout) {
    for (const { descriptor } of state.layers) await store.layout.blobs.importFile(source.blobs.path(descriptor.digest), descriptor);
  }
  return { state, key: manifestDescriptor.digest };
}

/**
 * Resolves `image` for FROM or COPY --from. A tag of the local store wins over a registry unless
 * the registry's tags are refreshed (--pull); without a registry (a library caller) nothing is pulled.
 */
export async function loadBase(store: BuilderStore, image: string, registry?: Puller): Promise<BaseImage> {
  if (image === 'scratch') return { state: scratchImage(), key: 'scratch' };
  if (image.startsWith('oci-layout://')) {
    const spec = image.slice('oci-layout://'.length);
    const colon = spec.lastIndexOf(':');
    const [dir, ref] = colon > 0 && !spec.slice(colon).includes('/') ? [spec.slice(0, colon), spec.slice(colon + 1)] : [spec, undefined];
    const source = await OciLayout.open(dir, { create: false });
    return fromLayout(store, source, ref, image);
  }
  const ref = normalizeReference(image);
  const known = store.layout.readIndex().manifests.some((d) => d.annotations?.['org.opencontainers.image.ref.name'] === ref);
  if (known && registry?.options.refresh !== true) return fromLayout(store, store.layout, ref, image);
  if (registry === undefined) throw new Error(`FROM ${image}: no such image in the local store`);
  const pulled = await registry.image(image);
  return { state: baseState(pulled.manifest, pulled.config, image), key: pulled.digest };
}
