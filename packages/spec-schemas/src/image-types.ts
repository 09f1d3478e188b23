// Types of the image-spec 1.1 documents (descriptor, index, manifest, image config, oci-layout),
// with JSON field names exactly as the documents spell them.

/** Media types this project reads and writes. */
export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

export type Annotations = Record<string, string>;

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  /** `algorithm:encoded`, e.g. `sha256:<64 hex chars>`. */
  digest: string;
  size: number;
  urls?: string[];
  /** Base64 of the content itself, for small blobs embedded in the descriptor. */
  data?: string;
  artifactType?: string;
  annotations?: Annotations;
  platform?: Platform;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: typeof MEDIA_TYPES.index;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: typeof MEDIA_TYPES.manifest;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

/** A Go `map[string]struct{}` as JSON: only the keys carry meaning. */
export type StringSet = Record<string, Record<string, never>>;

export interface Healthcheck {
  Test?: string[] | null;
  /** Durations are nanoseconds, as Go's time.Duration marshals them. */
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** Execution parameters of the image. Docker writes null for empty lists and maps. */
export interface ImageExecConfig {
  User?: string;
  ExposedPorts?: StringSet | null;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: StringSet | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  /** Docker's extension: the SHELL a child image's shell-form instructions start with. */
  Shell?: string[] | null;
  /** Docker's extension: ONBUILD triggers, run by the build of an image FROM this one. */
  OnBuild?: string[] | null;
  ArgsEscaped?: boolean;
  Healthcheck?: Healthcheck | null;
}

export interface RootFS {
  type: 'layers';
  /** Digests of the uncompressed layer tars, in order from bottom to top. */
  diff_ids: string[];
}

export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ImageExecConfig;
  rootfs: RootFS;
  history?: History[];
}

export interface OciLayout {
  imageLayoutVersion: '1.0.0';
}
