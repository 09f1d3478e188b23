// ADD of a local tar archive: extracted into the destination (gzip, bzip2, xz and zstd by their magic
// bytes), through the same safe extractor as image layers; anything else is copied as a file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { extractLayer } from '../image/layer-reader.js';
import { stageCopy, type CopyPlan, type Ownership, type SourceRoot } from './copy.js';

const DECOMPRESSORS: { magic: number[]; command: string }[] = [
  { magic: [0x42, 0x5a, 0x68], command: 'bzip2' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], command: 'xz' },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], command: 'zstd' },
];

function startsWith(head: Buffer, magic: number[]): boolean {
  return magic.every((b, i) => head[i] === b);
}

/** A tar (plain or gzip, which the extractor sniffs itself) at offset 257 says "ustar". */
function isTar(head: Buffer): boolean {
  return head.toString('latin1', 257, 262) === 'ustar';
}

function readHead(file: string, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(length);
    fs.readSync(fd, head, 0, length, 0);
    return head;
  } finally {
    fs.closeSync(fd);
  }
}

/** True when `file` was an archive and has been extracted into `target`. */
async function extractIfArchive(file: string, target: string): Promise<boolean> {
  const head = readHead(file, 512);
  const decompressor = DECOMPRESSORS.find((d) => startsWith(head, d.magic));
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  if (!decompressor && !gzip && !isTar(head)) return false;
  fs.mkdirSync(target, { recursive: true });
  if (!decompressor) {
    await extractLayer(fs.createReadStream(file), target);
    return true;
  }
  const child = spawn(decompressor.command, ['-dc', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  await extractLayer(child.stdout as Readable, target);
  if ((await exited) !== 0) throw new Error(`ADD ${file}: ${decompressor.command} could not decompress it`);
  return true;
}

/**
 * ADD of local sources: archives are extracted into the destination directory (keeping the
 * owners and modes they hold), everything else copied as COPY would, with --chown and --chmod.
 */
export async function stageAdd(source: SourceRoot, plan: CopyPlan, dest: string, staging: string, owner: Ownership, chmod?: number): Promise<void> {
  for (const entry of plan.entries) {
    const file = path.join(source.dir, entry.from);
    if (fs.lstatSync(file).isFile() && await extractIfArchive(file, path.join(staging, dest))) continue;
    stageCopy(source, { entries: [entry], exclude: plan.exclude }, staging, owner, chmod);
  }
}
