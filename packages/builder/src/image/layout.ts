// OCI image layout on disk (oci-layout, index.json, blobs/sha256/...) plus the two archive
// formats images leave the builder in: an OCI layout tarball and a `docker save` tarball.
// index.json is changed under a lock on the layout's directory (file-lock.ts), so builds tagging
// into one layout at once all keep their tags; archives are made of blobs checked as they are
// read, under a temp name beside their destination, renamed into place once complete.
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile, writeFileAtomic } from '@tsrunc/runtime/platform';
import type tar from 'tar-stream';
import { withDirLock } from './file-lock.js';
import { withPath } from './fs-error.js';
import { processTag } from './process-tag.js';
import { BlobStore, digestHex } from './store.js';
import { addEntry, packInto } from './tar-pack.js';
import { MEDIA_TYPES, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from '@tsrunc/spec-schemas';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const LAYOUT_VERSION = '1.0.0';

/** Canonical form used for every JSON document we hash: no whitespace, keys in construction order. */
export function canonicalJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * Replaces `file` whole and durably: readers never see a torn index, and a tag once written
 * survives a crash. The temp name carries the process tag, so a store sweep removes a killed
 * build's leftovers (store-root.ts).
 */
function writeLayoutFile(file: string, data: Buffer): void {
  try {
    writeFileAtomic(file, data, { durable: true, writer: processTag() });
  } catch (err) {
    throw withPath(err, file);
  }
}

/**
 * Writes the archive `file` through `write` (given a temp file beside it): a build killed or
 * failing meanwhile leaves the previous file as it was and no partial one.
 */
async function writeArchive(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  try {
    await replaceFile(file, write, { durable: true, writer: processTag() });
  } catch (err) {
    throw withPath(err, file);
  }
}

export interface ResolvedImage {
  manifest: ImageManifest;
  config: ImageConfig;
  manifestDescriptor: Descriptor;
}

export class OciLayout {
  readonly blobs: BlobStore;

  private constructor(readonly dir: string) {
    this.blobs = new BlobStore(dir);
  }

  /** Opens a layout, creating an empty one first when `create` is set and none exists. */
  static async open(dir: string, opts: { create: boolean }): Promise<OciLayout> {
    const layoutFile = join(dir, LAYOUT_FILE);
    if (!existsSync(layoutFile)) {
      if (!opts.create) throw new Error(`${dir} is not an OCI image layout (no ${LAYOUT_FILE})`);
      mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
      // Locked: builds creating one layout at once must not reset an index another one has tagged in.
      await withDirLock(dir, () => {
        if (existsSync(layoutFile)) return;
        const index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: [] };
        writeLayoutFile(join(dir, INDEX_FILE), canonicalJson(index));
        writeLayoutFile(layoutFile, canonicalJson({ imageLayoutVersion: LAYOUT_VERSION }));
      });
    }
    const { imageLayoutVersion } = JSON.parse(readFileSync(layoutFile, 'utf8')) as { imageLayoutVersion?: string };
    if (imageLayoutVersion !== LAYOUT_VERSION) throw new Error(`${dir}: unsupported imageLayoutVersion ${String(imageLayoutVersion)}`);
    return new OciLayout(dir);
  }

  readIndex(): ImageIndex {
    return JSON.parse(readFileSync(join(this.dir, INDEX_FILE), 'utf8')) as ImageIndex;
  }

  /**
   * Stores `config` and `manifest` (whose config descriptor must describe exactly the
   * canonical config bytes, and whose layers must already be in the store, intact) and lists the
   * manifest in index.json, replacing any manifest previously tagged `refName` and keeping every
   * other, including those other builds tag meanwhile.
   */
  async addManifest(manifest: ImageManifest, config: ImageConfig, refName?: string): Promise<Descriptor> {
    const configRef = this.blobs.putBytes(canonicalJson(config));
    if (manifest.config.digest !== configRef.digest || manifest.config.size !== configRef.size) {
      throw new Error(`manifest config descriptor ${manifest.config.digest} (${manifest.config.size} bytes) does not match the config ${configRef.digest} (${configRef.size} bytes)`);
    }
    for (const layer of manifest.layers) {
      if (!this.blobs.has(layer.digest)) throw new Error(`manifest layer ${layer.digest} is not in the blob store`);
      await this.blobs.verify(layer.digest);
    }
    const manifestRef = this.blobs.putBytes(canonicalJson(manifest));
    const descriptor: Descriptor = {
      mediaType: manifest.mediaType ?? MEDIA_TYPES.manifest,
      digest: manifestRef.digest,
      size: manifestRef.size,
      platform: { architecture: config.architecture, os: config.os, ...(config.variant ? { variant: config.variant } : {}) },
    };
    return this.list(descriptor, refName);
  }

  /**
   * Lists `descriptor` (of a document already in the store) in index.json, under the tag
   * `refName` if given, which it takes from any manifest tagged so before; every other entry,
   * including those other builds add meanwhile, is kept.
   */
  async list(descriptor: Descriptor, refName?: string): Promise<Descriptor> {
    const listed: Descriptor = refName === undefined ? descriptor : { ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME_ANNOTATION]: refName } };
    await withDirLock(this.dir, () => {
      const index = this.readIndex();
      const others = index.manifests.filter((d) => refName === undefined || d.annotations?.[REF_NAME_ANNOTATION] !== refName);
      writeLayoutFile(join(this.dir, INDEX_FILE), canonicalJson({ ...index, manifests: [...others, listed] }));
    });
    return listed;
  }

  /**
   * Removes the tag `refName` from index.json (under the same lock as addManifest); its blobs stay
   * until a prune finds nothing else refers to them. False when nothing was tagged so.
   */
  async untag(refName: string): Promise<boolean> {
    return withDirLock(this.dir, () => {
      const index = this.readIndex();
      const others = index.manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== refName);
      if (others.length === index.manifests.length) return false;
      writeLayoutFile(join(this.dir, INDEX_FILE), canonicalJson({ ...index, manifests: others }));
      return true;
    });
  }

  /** Finds the manifest tagged `ref`, or the only manifest when no ref is given. */
  resolve(ref?: string): ResolvedImage {
    const { manifests } = this.readIndex();
    const matches = ref === undefined ? manifests : manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] === ref);
    if (matches.length !== 1 || !matches[0]) {
      throw new Error(ref === undefined
        ? `${this.dir}: ${manifests.length} manifests in index.json, name one with a ref`
        : `${this.dir}: ${matches.length === 0 ? 'no' : 'several'} manifests tagged ${ref}`);
    }
    const manifestDescriptor = matches[0];
    if (manifestDescriptor.mediaType !== MEDIA_TYPES.manifest) throw new Error(`${ref ?? 'image'}: ${manifestDescriptor.mediaType} is not an image manifest`);
    const manifest = this.blobs.readJson<ImageManifest>(manifestDescriptor.digest);
    const config = this.blobs.readJson<ImageConfig>(manifest.config.digest);
    return { manifest, config, manifestDescriptor };
  }
}

/** Fixed metadata for archive members, so the same layout always gives the same tarball. */
const MEMBER = { mtime: new Date(0), uid: 0, gid: 0 };

function addBuffer(pack: tar.Pack, name: string, bytes: Buffer): Promise<void> {
  return addEntry(pack, { ...MEMBER, name, mode: 0o644, type: 'file' }, { bytes });
}

function addDir(pack: tar.Pack, name: string): Promise<void> {
  return addEntry(pack, { ...MEMBER, name, mode: 0o755, type: 'directory' }, { bytes: Buffer.alloc(0) });
}

function addFile(pack: tar.Pack, name: string, file: string): Promise<void> {
  return addEntry(pack, { ...MEMBER, name, mode: 0o644, type: 'file', size: statSync(file).size }, { file });
}

/** A blob as an archive member, read from the file that was checked against its digest. */
async function addBlob(pack: tar.Pack, name: string, blobs: BlobStore, digest: string): Promise<void> {
  const stream = await blobs.open(digest);
  // A blob's name is only ever renamed onto with the same bytes: its size is the checked file's.
  const size = statSync(blobs.path(digest)).size;
  return addEntry(pack, { ...MEMBER, name, mode: 0o644, type: 'file', size }, { stream });
}

/** Tars a whole OCI layout (oci-layout, index.json, every blob, each checked; not the store's tmp dir). */
export async function writeOciArchive(layoutDir: string, outFile: string): Promise<void> {
  const layout = await OciLayout.open(layoutDir, { create: false });
  const blobDir = join(layoutDir, 'blobs', 'sha256');
  const hexes = readdirSync(blobDir).sort();
  await writeArchive(outFile, (tmp) => packInto(createWriteStream(tmp, { flags: 'wx' }), async (pack) => {
    await addFile(pack, LAYOUT_FILE, join(layoutDir, LAYOUT_FILE));
    await addBuffer(pack, INDEX_FILE, canonicalJson(layout.readIndex()));
    await addDir(pack, 'blobs/');
    await addDir(pack, 'blobs/sha256/');
    for (const hex of hexes) await addBlob(pack, `blobs/sha256/${hex}`, layout.blobs, `sha256:${hex}`);
  }));
}

/**
 * Writes the image tagged `ref` in `docker save` format: manifest.json, the config as
 * <hex>.json and each layer blob as blobs/sha256/<hex> (docker and podman load accept
 * gzip layers). `repoTag` is the name docker gives the image, e.g. "app:latest".
 */
export async function writeDockerArchive(layoutDir: string, ref: string, outFile: string, repoTag: string = ref): Promise<void> {
  const layout = await OciLayout.open(layoutDir, { create: false });
  const { manifest } = layout.resolve(ref);
  const configName = `${digestHex(manifest.config.digest)}.json`;
  const layerNames = manifest.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`);
  const dockerManifest = [{ Config: configName, RepoTags: [repoTag], Layers: layerNames }];
  await writeArchive(outFile, (tmp) => packInto(createWriteStream(tmp, { flags: 'wx' }), async (pack) => {
    await addBuffer(pack, 'manifest.json', canonicalJson(dockerManifest));
    await addBlob(pack, configName, layout.blobs, manifest.config.digest);
    await addDir(pack, 'blobs/');
    await addDir(pack, 'blobs/sha256/');
    const seen = new Set<string>();
    for (const [i, layer] of manifest.layers.entries()) {
      const name = layerNames[i] as string;
      if (seen.has(name)) continue; // an image may repeat a layer; the archive needs it once
      seen.add(name);
      await addBlob(pack, name, layout.blobs, layer.digest);
    }
  }));
}
