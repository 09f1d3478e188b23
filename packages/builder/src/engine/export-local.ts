// BuildKit's filesystem exporters: -o type=local,dest=DIR writes the final stage's filesystem into
// DIR; -o type=tar,dest=FILE (or dest=- for stdout) writes it as one tar archive.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractLayers } from '../image/layer-reader.js';
import { writeLayer } from '../image/layer-writer.js';
import { replaceFile } from '@tsrunc/runtime/platform';
import type { FinalImage } from './export.js';
import { optionFields } from './option-fields.js';
import type { BuilderStore } from './store-root.js';

export interface FilesystemOutput {
  type: 'local' | 'tar';
  /** A directory (local), a file, or "-" for stdout (tar). */
  dest: string;
}

/** "type=local,dest=DIR" or "type=tar,dest=FILE" -> the output; undefined for the other types. */
export function parseFilesystemOutput(text: string): FilesystemOutput | undefined {
  const fields = optionFields(text);
  const type = fields.get('type');
  if (type !== 'local' && type !== 'tar') return undefined;
  for (const key of fields.keys()) if (key !== 'type' && key !== 'dest') throw new Error(`-o ${text}: unknown option "${key}" (type, dest)`);
  const dest = fields.get('dest');
  if (!dest) throw new Error(`-o ${text}: dest= is required`);
  if (type === 'local' && dest === '-') throw new Error(`-o ${text}: a local output needs a directory, not stdout`);
  return { type, dest: dest === '-' ? dest : path.resolve(dest) };
}

/** The tree at `root` as a tar (ended once written) to `dest`: a file, or stdout for "-". */
async function writeTar(root: string, dest: string, sourceDateEpoch?: number): Promise<void> {
  const epoch = sourceDateEpoch !== undefined ? { sourceDateEpoch } : {};
  if (dest === '-') {
    await writeLayer({ root, out: process.stdout, ...epoch });
    return;
  }
  // Beside its destination, renamed when complete: a failed export leaves no partial archive.
  await replaceFile(dest, (tmp) => writeLayer({ root, out: fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 }), ...epoch }));
}

/** Writes the image's filesystem (its layers applied in order) where `output` says. */
export async function exportFilesystem(store: BuilderStore, image: FinalImage, output: FilesystemOutput, sourceDateEpoch?: number): Promise<void> {
  const digests = image.manifest.layers.map((l) => l.digest);
  if (output.type === 'local') {
    fs.mkdirSync(output.dest, { recursive: true });
    await extractLayers(store.layout.blobs, digests, output.dest);
    return;
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-export-'));
  try {
    await extractLayers(store.layout.blobs, digests, scratch);
    await writeTar(scratch, output.dest, sourceDateEpoch);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
