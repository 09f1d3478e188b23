// Images FROM a registry, for one build: a reference resolved once (a tag to the digest recorded
// at its last pull, asked again only with --pull; a digest pin as it is), an index or manifest list
// narrowed to the build's platform, and every blob the image needs fetched, verified, into the
// content store (several layers at once); blobs already there are not fetched again.
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from '@tsrunc/spec-schemas';
import type { BlobStore } from '../image/store.js';
import { manifestKind, ociLayerType } from './media-types.js';
import { inParallel } from './parallel.js';
import { choosePlatform, formatPlatform, type Platform } from './platform.js';
import { PulledTags } from './pulled-tags.js';
import { formatReference, manifestSelector, parseReference, type Reference } from './reference.js';
import { RemoteRepository } from './repository.js';
import { RegistrySession } from './session.js';

export interface PulledImage {
  /** The platform's image manifest digest: what the build cache keys the base by. */
  digest: string;
  /** The manifest, its layers named by OCI media types. */
  manifest: ImageManifest;
  config: ImageConfig;
}

/** How many blobs are downloaded at once, as containerd's default. */
const PARALLEL_DOWNLOADS = 3;

/** A stored document's kind from its mediaType field, or its shape where OCI left the field out. */
function kindOf(doc: { mediaType?: string; manifests?: unknown; schemaVersion?: number }): 'index' | 'manifest' {
  if (doc.schemaVersion === 1) return manifestKind('application/vnd.docker.distribution.manifest.v1+json');
  if (doc.mediaType !== undefined) return manifestKind(doc.mediaType);
  return Array.isArray(doc.manifests) ? 'index' : 'manifest';
}

/** What a progress display hears of one image's download. */
export interface PullWatcher {
  /** `received` of the blob's `total` bytes have arrived (called as they do, and once at the end). */
  blob(digest: string, received: number, total: number): void;
  done(): void;
  failed(message: string): void;
}

export interface PullOptions {
  platform: Platform;
  /** --pull: ask the registry what each tag points at now, even when the store has it. */
  refresh: boolean;
  /** Called when an image's blobs start downloading (not for an image the store has whole). */
  watch?: (image: string) => PullWatcher;
}

export class Puller {
  private readonly sessions = new Map<string, RegistrySession>();
  private readonly images = new Map<string, Promise<PulledImage>>();
  private readonly tags: PulledTags;
  /** Where each blob of the images resolved in this build is, by registry: a push there mounts it from that repository. */
  private readonly origins = new Map<string, Map<string, string>>();

  constructor(private readonly blobs: BlobStore, storeRoot: string, readonly options: PullOptions) {
    this.tags = new PulledTags(storeRoot);
  }

  /** The session of a registry host, shared by every reference to it in this build (and by pushes). */
  session(domain: string): RegistrySession {
    let session = this.sessions.get(domain);
    if (!session) {
      session = new RegistrySession(domain);
      this.sessions.set(domain, session);
    }
    return session;
  }

  /** A repository of `domain` that holds the blob `digest`, as far as this build knows. */
  originOf(domain: string, digest: string): string | undefined {
    return this.origins.get(domain)?.get(digest);
  }

  /** Notes that `repository` of `domain` holds the blob `digest` (first one wins). */
  noteOrigin(domain: string, repository: string, digest: string): void {
    let blobs = this.origins.get(domain);
    if (!blobs) this.origins.set(domain, blobs = new Map());
    if (!blobs.has(digest)) blobs.set(digest, repository);
  }

  /** The image `text` names, pulled at most once per build whatever the number of stages naming it. */
  image(text: string): Promise<PulledImage> {
    const ref = parseReference(text);
    const name = formatReference(ref);
    let image = this.images.get(name);
    if (!image) {
      image = this.pull(ref).catch((err: Error) => {
        throw new Error(`${name}: ${err.message}`);
      });
      this.images.set(name, image);
    }
    return image;
  }

  private async pull(ref: Reference): Promise<PulledImage> {
    const repo = new RemoteRepository(this.session(ref.domain), ref.repository, false);
    const top = ref.digest ?? (await this.resolveTag(repo, ref, formatReference(ref)));
    const topDoc = await this.document(repo, { digest: top });
    let digest = top;
    let manifest = topDoc as ImageManifest;
    if (kindOf(topDoc) === 'index') {
      const chosen = choosePlatform((topDoc as ImageIndex).manifests, this.options.platform);
      const doc = await this.document(repo, chosen);
      if (kindOf(doc) !== 'manifest') throw new Error(`the ${formatPlatform(this.options.platform)} entry ${chosen.digest} is not an image manifest`);
      digest = chosen.digest;
      manifest = doc as ImageManifest;
    }
    const image = await this.fetchImage(repo, digest, manifest);
    if (ref.digest === undefined) this.tags.set(formatReference(ref), top);
    return image;
  }

  /** A tag's digest: the one recorded at its last pull, unless --pull asks, or the store lost it. */
  private async resolveTag(repo: RemoteRepository, ref: Reference, name: string): Promise<string> {
    const recorded = this.tags.get(name);
    const known = recorded !== undefined && this.blobs.has(recorded);
    if (known && !this.options.refresh) return recorded;
    if (known) {
      const now = await repo.manifestDigest(manifestSelector(ref));
      if (now === recorded) return recorded;
    }
    const fetched = await repo.manifest(manifestSelector(ref));
    manifestKind(fetched.mediaType); // refuses schema 1 and unknown types before anything is stored
    this.blobs.putBytes(fetched.bytes);
    return fetched.digest;
  }

  /** A manifest or index by digest: from the store, else fetched (and checked against its descriptor's size). */
  private async document(repo: RemoteRepository, want: { digest: string; size?: number }): Promise<ImageIndex | ImageManifest> {
    if (!this.blobs.has(want.digest)) {
      const fetched = await repo.manifest(want.digest);
      if (want.size !== undefined && fetched.bytes.length !== want.size) {
        throw new Error(`manifest ${want.digest} has ${fetched.bytes.length} bytes, its descriptor says ${want.size}`);
      }
      manifestKind(fetched.mediaType);
      this.blobs.putBytes(fetched.bytes);
    }
    return this.blobs.readJson<ImageIndex | ImageManifest>(want.digest);
  }

  private async fetchImage(repo: RemoteRepository, digest: string, manifest: ImageManifest): Promise<PulledImage> {
    const layers: Descriptor[] = manifest.layers.map((layer) => {
      const mediaType = ociLayerType(layer.mediaType);
      if (mediaType === undefined) throw new Error(`layer ${layer.digest} has media type ${layer.mediaType}, not a layer tsbuild can apply`);
      return { mediaType, digest: layer.digest, size: layer.size };
    });
    const missing = [manifest.config, ...manifest.layers].filter((d) => !this.blobs.has(d.digest));
    const watcher = missing.length > 0 ? this.options.watch?.(`${repo.domain}/${repo.name}@${digest}`) : undefined;
    try {
      await inParallel(missing, PARALLEL_DOWNLOADS, async (d) => {
        let received = 0;
        await repo.fetchBlob(d, this.blobs, watcher && ((bytes) => watcher.blob(d.digest, received += bytes, d.size)));
        watcher?.blob(d.digest, d.size, d.size);
      });
    } catch (err) {
      watcher?.failed((err as Error).message);
      throw err;
    }
    watcher?.done();
    for (const d of [manifest.config, ...manifest.layers]) this.noteOrigin(repo.domain, repo.name, d.digest);
    const config = this.blobs.readJson<ImageConfig>(manifest.config.digest);
    return { digest, manifest: { ...manifest, layers }, config };
  }

  close(): void {
    for (const session of this.sessions.values()) session.close();
  }
}
