// ADD of http(s) URLs: each one downloaded into a directory of its own that then serves as the
// step's source root, so that the destination rules, --chown/--chmod and the cache key by content
// are those of local sources. As with BuildKit, a download is a file (never unpacked, even if it is
// an archive), mode 0600, dated by its Last-Modified header, named after the URL's last path
// segment unless Content-Disposition names it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { replaceFile } from '@tsrunc/runtime/platform';
import { isGitSource } from './git-source.js';

const REMOTE = /^https?:\/\//i;
/** BuildKit's name for a download whose URL and headers give none. */
const UNNAMED = '__unnamed__';

/** A file to download (git repositories are git-source.ts's). */
export function isRemoteSource(word: string): boolean {
  return REMOTE.test(word) && !isGitSource(word);
}

export interface Downloads {
  /** The directory holding the downloads, one file per URL, under the names `names`. */
  dir: string;
  names: string[];
}

/** `--checksum=sha256:HEX`, checked against the one URL it may go with. */
export function parseChecksum(flag: string | undefined, remoteWords: string[], allWords: string[]): string | undefined {
  if (flag === undefined) return undefined;
  if (!/^sha256:[0-9a-f]{64}$/.test(flag)) throw new Error(`ADD --checksum=${flag}: expected sha256: and 64 hex digits`);
  if (remoteWords.length !== 1 || allWords.length !== 1) throw new Error('ADD --checksum needs exactly one source, an http(s) URL');
  return flag;
}

export async function download(words: string[], dir: string, checksum: string | undefined, signal?: AbortSignal): Promise<Downloads> {
  fs.mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (const url of words) {
    const response = await request(url, signal);
    const name = uniqueName(fileName(url, response.headers.get('content-disposition')), names);
    await replaceFile(path.join(dir, name), (temp) => save(url, response, temp, checksum));
    names.push(name);
  }
  return { dir, names };
}

/** Two URLs ending in the same name keep both files, as two sources to a directory must. */
function uniqueName(wanted: string, taken: string[]): string {
  let name = wanted;
  for (let n = 2; taken.includes(name); n++) name = `${wanted}.${n}`;
  return name;
}

async function request(url: string, signal?: AbortSignal): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted) throw err;
    // undici says only "fetch failed"; the reason (ENOTFOUND, ECONNREFUSED, ...) is its cause.
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new Error(`ADD ${url}: cannot download: ${cause}`);
  }
  if (!response.ok || response.body === null) throw new Error(`ADD ${url}: the server answered ${response.status} ${response.statusText}`);
  return response;
}

/** Writes the response's body to `file`, checked against `checksum` and dated by Last-Modified. */
async function save(url: string, response: Response, file: string, checksum: string | undefined): Promise<void> {
  const hash = createHash('sha256');
  const digesting = new Transform({ transform(chunk: Buffer, _encoding, done) { hash.update(chunk); done(null, chunk); } });
  await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), digesting, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  const digest = `sha256:${hash.digest('hex')}`;
  if (checksum !== undefined && digest !== checksum) throw new Error(`ADD ${url}: checksum mismatch: expected ${checksum}, got ${digest}`);
  const modified = Date.parse(response.headers.get('last-modified') ?? '');
  if (!Number.isNaN(modified)) fs.utimesSync(file, new Date(modified), new Date(modified));
}

/** Content-Disposition's filename, else the URL path's last segment; never a path. */
function fileName(url: string, disposition: string | null): string {
  const given = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? '')?.[1];
  const raw = given !== undefined ? safeDecode(given) : safeDecode(new URL(url).pathname.split('/').pop() ?? '');
  const base = path.posix.basename(raw.replace(/\\/g, '/'));
  return base === '' || base === '.' || base === '..' ? UNNAMED : base;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
