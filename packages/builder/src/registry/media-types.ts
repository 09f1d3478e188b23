// The manifest and layer media types of docker's and OCI's families, and how a docker layer is
// named in the OCI images tsbuild builds (the bytes, and so the digest, are the same).
import { MEDIA_TYPES } from '@tsrunc/spec-schemas';

export const DOCKER = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  foreignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

const INDEX_TYPES: readonly string[] = [MEDIA_TYPES.index, DOCKER.list];
const MANIFEST_TYPES: readonly string[] = [MEDIA_TYPES.manifest, DOCKER.manifest];
const SCHEMA1_TYPES: readonly string[] = [DOCKER.schema1, DOCKER.schema1Signed];

/** What a manifest GET accepts: both families, indexes and images (never schema1). */
export const ACCEPT = [...INDEX_TYPES, ...MANIFEST_TYPES].join(', ');

const OCI_NONDISTRIBUTABLE_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';

const LAYER_TYPES: Record<string, string> = {
  [DOCKER.layerGzip]: MEDIA_TYPES.layerGzip,
  [DOCKER.foreignLayerGzip]: OCI_NONDISTRIBUTABLE_GZIP,
  [MEDIA_TYPES.layer]: MEDIA_TYPES.layer,
  [MEDIA_TYPES.layerGzip]: MEDIA_TYPES.layerGzip,
  [MEDIA_TYPES.layerZstd]: MEDIA_TYPES.layerZstd,
  [OCI_NONDISTRIBUTABLE_GZIP]: OCI_NONDISTRIBUTABLE_GZIP,
};

/** A pulled layer's media type in OCI's family; undefined for anything that is not a layer tsbuild can apply. */
export function ociLayerType(mediaType: string): string | undefined {
  return LAYER_TYPES[mediaType];
}

/** A manifest's media type: the response's Content-Type, else the document's own mediaType field. */
export function manifestKind(mediaType: string): 'index' | 'manifest' {
  if (INDEX_TYPES.includes(mediaType)) return 'index';
  if (MANIFEST_TYPES.includes(mediaType)) return 'manifest';
  if (SCHEMA1_TYPES.includes(mediaType)) throw new Error('a docker schema 1 manifest (deprecated, not supported: push the image again with a current docker or skopeo --format v2s2)');
  throw new Error(`an unknown manifest media type ${mediaType}`);
}
