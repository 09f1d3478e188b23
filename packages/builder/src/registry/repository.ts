// The distribution-spec's endpoints for one repository: manifests by tag or digest (checked
// against the digest asked for or announced), blobs streamed into the content store (digest and
// size checked as they arrive, nothing left on a mismatch), and pushes: HEAD, then a blob another
// repository of the registry holds mounted from it (POST ?mount=&from=), a small one sent in one
// PUT, a large one in chunks (PATCH with Content-Range, each acknowledged, then PUT ?digest=).
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
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
/**
 * Blobs larger than this go up in chunks of this size: a chunk is acknowledged before the next is
 * read, so the upload holds one chunk in memory and the registry's Range tells how far it got.
 */
const UPLOAD_CHUNK = 8 * 1024 * 1024;

/** `stream` cut into buffers of `size` bytes (the last one shorter). */
async function* chunksOf(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const piece of stream as AsyncIterable<Buffer>) {
    let rest = piece;
    while (length + rest.length >= size) {
      const take = size - length;
      yield Buffer.concat([...pending, rest.subarray(0, take)]);
      rest = rest.subarray(take);
      pending = [];
      length = 0;
    }
    if (rest.length > 0) {
      pending.push(rest);
      length += rest.length;
    }
  }
  if (length > 0) yield Buffer.concat(pending);
}

export class RemoteRepository {
  private readonly scope: string;

  constructor(private readonly session: RegistrySession, readonly name: string, push: boolean) {
    this.scope = `repository:${name}:${push ? 'pull,push' : 'pull'}`;
  }

  get domain(): string {
    return this.session.domain;
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
  /** Downloads a blob the store lacks; `received` hears the bytes as they arrive (a progress display). */
  async fetchBlob(descriptor: Descriptor, blobs: BlobStore, received?: (bytes: number) => void): Promise<void> {
    if (blobs.has(descriptor.digest)) return;
    const res = await this.session.send({ method: 'GET', url: `/v2/${this.name}/blobs/${descriptor.digest}` }, this.scope);
    await this.expect(res, [200], `blob ${descriptor.digest} of ${this.name}`);
    if (received) res.on('data', (chunk: Buffer) => received(chunk.length));
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

  /**
   * Uploads a stored blob. With `mountFrom`, a repository of the same registry that holds it, the
   * registry is asked to mount it from there first; one that does not (202: it opened an upload
   * session instead, used then) or may not (a token without pull there) costs nothing but the
   * ask: the blob is sent as any other. It is checked against its digest before it is sent: a
   * corrupt one is reported, never sent.
   */
  async uploadBlob(descriptor: Descriptor, blobs: BlobStore, mountFrom?: string): Promise<void> {
    let start: IncomingMessage | undefined;
    if (mountFrom !== undefined && mountFrom !== this.name) {
      const query = `?mount=${encodeURIComponent(descriptor.digest)}&from=${encodeURIComponent(mountFrom)}`;
      // Mounting reads the other repository: the token must allow pulling from it too.
      start = await this.startUpload(query, `${this.scope} repository:${mountFrom}:pull`).catch(() => undefined);
      if (start?.statusCode === 201) return;
      if (start?.statusCode !== 202) {
        start?.resume();
        start = undefined;
      }
    }
    start ??= await this.startUpload('', this.scope);
    await this.expect(start, [202], `starting the upload of ${descriptor.digest} to ${this.name}`);
    const location = this.locationOf(start, descriptor);
    const body = await blobs.open(descriptor.digest);
    if (descriptor.size <= UPLOAD_CHUNK) {
      await this.finishUpload(location, descriptor, body, descriptor.size);
      return;
    }
    let url = location;
    let offset = 0;
    for await (const chunk of chunksOf(body, UPLOAD_CHUNK)) {
      const end = offset + chunk.length - 1;
      const res = await this.session.send({
        method: 'PATCH', url, body: chunk,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(chunk.length), 'content-range': `${offset}-${end}` },
      }, this.scope);
      res.resume();
      await this.expect(res, [202], `uploading bytes ${offset}-${end} of ${descriptor.digest} to ${this.name}`);
      // The registry says what it holds: exactly what was sent so far, or the upload is off.
      const range = res.headers.range;
      if (range !== undefined && range !== `0-${end}` && range !== `bytes=0-${end}`) {
        throw new Error(`${this.session.domain}: the upload of ${descriptor.digest} to ${this.name} holds ${range} after bytes ${offset}-${end}`);
      }
      url = this.locationOf(res, descriptor);
      offset = end + 1;
    }
    if (offset !== descriptor.size) throw new Error(`blob ${descriptor.digest} has ${offset} bytes, its descriptor says ${descriptor.size}`);
    await this.finishUpload(url, descriptor, undefined, 0);
  }

  private async startUpload(query: string, scope: string): Promise<IncomingMessage> {
    const res = await this.session.send({ method: 'POST', url: `/v2/${this.name}/blobs/uploads/${query}`, headers: { 'content-length': '0' } }, scope);
    if (res.statusCode !== 202 && res.statusCode !== 201) return res; // expect() reads its error document
    res.resume();
    return res;
  }

  private locationOf(res: IncomingMessage, descriptor: Descriptor): string {
    const location = res.headers.location;
    if (!location) throw new Error(`${this.session.domain}: the upload of ${descriptor.digest} to ${this.name} got no Location`);
    return location;
  }

  /** The PUT that closes an upload, naming its digest, with the bytes not sent yet (all, or none after chunks). */
  private async finishUpload(location: string, descriptor: Descriptor, body: Readable | undefined, size: number): Promise<void> {
    const url = `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(descriptor.digest)}`;
    const res = await this.session.send({
      method: 'PUT', url, ...(body !== undefined ? { body } : {}),
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
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
