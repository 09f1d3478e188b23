// The distribution-spec's endpoints for one repository: manifests by tag or digest (checked
// against the digest asked for or announced), blobs streamed into the content store (digest and
// size checked as they arrive, nothing left on a mismatch), and pushes (HEAD, POST then PUT).
import type { IncomingMessage } from 'node:http';
import type { Descriptor } from '@tsrunc/spec-schemas';
import { sha256Digest, type BlobStore } from '../image/store.js';
import { ACCEPT } from './media-types.js';
import { registryReason, type RegistrySession } from './session.js';

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/** The largest manifest or index accepted, as containerd limits them. */
const MANIFEST_LIMIT = 4 * 1024 * 1024;

export class RemoteRepository {
  private readonly scope: string;

  constructor(private readonly session: RegistrySession, readonly name: string, push: boolean) {
    this.scope = `repository:${name}:${push ? 'pull,push' : 'pull'}`;
  }

  private async expect(res: IncomingMessage, ok: number[], what: string): Promise<void> {
    if (ok.includes(res.statusCode ?? 0)) return;
    const reason = await registryReason(res);
    throw new Error(`${this.session.domain}: ${what}: ${res.statusCode === 404 ? `not found (${reason})` : reason}`);
  }

  /** The manifest named by a tag or a digest, whose bytes must have the digest asked for or announced. */
  async manifest(selector: string): Promise<FetchedManifest> {
    const res = await this.session.send({ method: 'GET', url: `/v2/${this.name}/manifests/${selector}`, headers: { accept: ACCEPT } }, this.scope);
    await this.expect(res, [200], `manifest ${this.name}:${selector}`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if ((size += chunk.length) > MANIFEST_LIMIT) {
        res.destroy();
        throw new Error(`${this.session.domain}: manifest ${this.name}:${selector} is larger than ${MANIFEST_LIMIT} bytes`);
      }
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    const digest = sha256Digest(bytes);
    const expected = selector.startsWith('sha256:') ? selector : res.headers['docker-content-digest'];
    if (typeof expected === 'string' && expected !== digest) {
      throw new Error(`${this.session.domain}: manifest ${this.name}:${selector} has digest ${digest}, not ${expected}`);
    }
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; schemaVersion?: number };
    const contentType = (res.headers['content-type'] ?? '').split(';')[0]!.trim();
    const mediaType = doc.schemaVersion === 1 ? 'application/vnd.docker.distribution.manifest.v1+json' : doc.mediaType ?? contentType;
    return { bytes, mediaType, digest };
  }

  /** The digest a tag points at now (HEAD, nothing downloaded), or undefined if the registry does not say. */
  async manifestDigest(tag: string): Promise<string | undefined> {
    const res = await this.session.send({ method: 'HEAD', url: `/v2/${this.name}/manifests/${tag}`, headers: { accept: ACCEPT } }, this.scope);
    res.resume();
    await this.expect(res, [200], `manifest ${this.name}:${tag}`);
    const digest = res.headers['docker-content-digest'];
    return typeof digest === 'string' ? digest : undefined;
  }

  /** Downloads a blob into the store under its digest; the bytes must match the descriptor exactly. */
  async fetchBlob(descriptor: Descriptor, blobs: BlobStore): Promise<void> {
    if (blobs.has(descriptor.digest)) return;
    const res = await this.session.send({ method: 'GET', url: `/v2/${this.name}/blobs/${descriptor.digest}` }, this.scope);
    await this.expect(res, [200], `blob ${descriptor.digest} of ${this.name}`);
    const mismatch = (what: string) => new Error(`${this.session.domain}: blob ${descriptor.digest} of ${this.name}: ${what}, not what its descriptor says (${descriptor.size} bytes)`);
    await blobs.importStream(res, descriptor, mismatch);
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.session.send({ method: 'HEAD', url: `/v2/${this.name}/blobs/${digest}` }, this.scope);
    res.resume();
    if (res.statusCode === 404) return false;
    await this.expect(res, [200], `blob ${digest} of ${this.name}`);
    return true;
  }

  /** Uploads a stored blob: a session opened by POST, then the whole blob in one PUT that names its digest. */
  async uploadBlob(descriptor: Descriptor, blobs: BlobStore): Promise<void> {
    const start = await this.session.send({ method: 'POST', url: `/v2/${this.name}/blobs/uploads/`, headers: { 'content-length': '0' } }, this.scope);
    start.resume();
    await this.expect(start, [202], `starting the upload of ${descriptor.digest} to ${this.name}`);
    const location = start.headers.location;
    if (!location) throw new Error(`${this.session.domain}: the upload of ${descriptor.digest} to ${this.name} got no Location`);
    const url = `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(descriptor.digest)}`;
    const body = await blobs.open(descriptor.digest); // checked first: a corrupt blob is reported, never sent
    const res = await this.session.send({
      method: 'PUT', url, body,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) },
    }, this.scope);
    res.resume();
    await this.expect(res, [201], `uploading ${descriptor.digest} to ${this.name}`);
  }

  /** Puts a manifest under a tag; the registry must agree on its digest. */
  async putManifest(tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const res = await this.session.send({
      method: 'PUT', url: `/v2/${this.name}/manifests/${tag}`, body: bytes,
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
    }, this.scope);
    res.resume();
    await this.expect(res, [201], `putting the manifest ${this.name}:${tag}`);
    const announced = res.headers['docker-content-digest'];
    if (typeof announced === 'string' && announced !== digest) throw new Error(`${this.session.domain}: the registry stored ${this.name}:${tag} as ${announced}, not ${digest}`);
    return digest;
  }
}
