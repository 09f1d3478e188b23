// The image a stage starts FROM: scratch, an OCI layout on disk (oci-layout://DIR[:TAG]), or an
// image of the local store. There is no registry access: anything else is a clear error.
import { OciLayout } from '../image/layout.js';
import { scratchImage, type ImageState } from './image-state.js';
import { normalizeReference, type BuilderStore } from './store-root.js';

export interface BaseImage {
  state: ImageState;
  /** Identifies the base for the cache: the manifest digest, or "scratch". */
  key: string;
}

async function fromLayout(store: BuilderStore, source: OciLayout, ref: string | undefined, label: string): Promise<BaseImage> {
  const { manifest, config, manifestDescriptor } = source.resolve(ref);
  const layers = manifest.layers.map((descriptor, i) => {
    const diffId = config.rootfs.diff_ids[i];
    if (!diffId) throw new Error(`${label}: the config has fewer diff_ids than the manifest has layers`);
    return { descriptor, diffId };
  });
  // Another layout's blobs enter the store only through its verified import: a layer whose bytes
  // do not match its descriptor is refused rather than stored under a digest other images trust.
  if (source !== store.layout) {
    for (const { descriptor } of layers) await store.layout.blobs.importFile(source.blobs.path(descriptor.digest), descriptor);
  }
  return { state: { config: structuredClone(config), layers }, key: manifestDescriptor.digest };
}

export async function loadBase(store: BuilderStore, image: string): Promise<BaseImage> {
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
  if (!known) throw new Error(`FROM ${image}: no such image in the local store (tsbuild has no registry access here; use oci-layout://DIR or build it first)`);
  return fromLayout(store, store.layout, ref, image);
}
