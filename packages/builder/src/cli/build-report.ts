// What a build reports besides its progress, as docker build does: the image id (--iidfile, -q),
// BuildKit's metadata file (--metadata-file), and a quiet progress (-q) that is shown only when
// the build fails. Also the image labels given with --label.
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { PlainProgress } from '../engine/progress-plain.js';
import type { FinalImage } from '../engine/export.js';
import { canonicalJson } from '../image/layout.js';
import { sha256Digest } from '../image/store.js';

/** The image id, as docker build prints it: the digest of the image config. */
export function imageIdOf(image: FinalImage): string {
  return image.manifest.config.digest;
}

/**
 * BuildKit's metadata file: the manifest's digest and descriptor, the config's digest, and the
 * names the image was given (comma-separated, when it was given any).
 */
export function writeMetadataFile(file: string, image: FinalImage, names: string[]): void {
  const bytes = canonicalJson(image.manifest);
  const digest = sha256Digest(bytes);
  const metadata = {
    'containerimage.config.digest': image.manifest.config.digest,
    'containerimage.descriptor': { mediaType: image.manifest.mediaType, digest, size: bytes.length },
    'containerimage.digest': digest,
    ...(names.length > 0 ? { 'image.name': names.join(',') } : {}),
  };
  fs.writeFileSync(file, JSON.stringify(metadata, null, 2) + '\n');
}

/** --label K=V (or K alone, an empty value), as docker build takes them. */
export function parseLabels(list: string[] = []): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (key === '') throw new Error(`--label ${item}: the label has no name`);
    labels[key] = eq < 0 ? '' : item.slice(eq + 1);
  }
  return labels;
}

/** -q: BuildKit's plain log kept in memory, written to stderr only if the build fails. */
export class QuietProgress extends PlainProgress {
  private readonly lines: string[];

  constructor() {
    const lines: string[] = [];
    super(new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(chunk.toString('utf8')); done(); } }));
    this.lines = lines;
  }

  /** The log so far, for the failure report. */
  log(): string {
    return this.lines.join('');
  }
}
