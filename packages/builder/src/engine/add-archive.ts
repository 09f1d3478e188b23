// ADD of a local tar archive: extracted into the destination (gzip, bzip2, xz and zstd by their magic
// bytes), through the same safe extractor as image layers; anything else is copied as a file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { extractLayer } from '../image/layer-reader.js';
import { stageCopy, type CopyPlan, type Ownership, type SourceRoot } from './copy.js';
import type { StagingTree } from './staging-tree.js';

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

/** The decompressor of an archive by its first bytes (null: none needed), or undefined if `file` is none. */
function archiveKind(file: string): { command: string } | null | undefined {
  const head = readHead(file, 512);
  const decompressor = DECOMPRESSORS.find((d) => startsWith(head, d.magic));
  if (decompressor) return decompressor;
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  return gzip || isTar(head) ? null : undefined;
}

/** Extracts the archive into `target`; returns the paths (relative to it) the archive set. */
async function extract(file: string, decompressor: { command: string } | null, target: string): Promise<ReadonlySet<string>> {
  if (!decompressor) return extractLayer(fs.createReadStream(file), target);
  const child = spawn(decompressor.command, ['-dc', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const written = await extractLayer(child.stdout as Readable, target);
  if ((await exited) !== 0) throw new Error(`ADD ${file}: ${decompressor.command} could not decompress it`);
  return written;
}

/**
 * ADD of local sources: archives are extracted into the destination directory (keeping the
 * owners and modes they hold), everything else copied as COPY would, with --chown and --chmod.
 */
export async function stageAdd(source: SourceRoot, plan: CopyPlan, dest: string, tree: StagingTree, owner: Ownership, chmod?: number): Promise<void> {
  for (const entry of plan.entries) {
    const file = path.join(source.dir, entry.from);
    const kind = fs.lstatSync(file).isFile() ? archiveKind(file) : undefined;
    if (kind !== undefined) {
      // The extractor refuses symlinks below its target; the target itself is resolved in the
      // tree, or through the image's symlink to the directory it leads to.
      const at = tree.existingDirectory(dest) ?? dest;
      const written = await tree.below(at, (target) => extract(file, kind, target));
      for (const rel of written) tree.ownMetadata(path.posix.join(at, rel));
    } else stageCopy(source, { entries: [entry], exclude: plan.exclude }, tree, owner, chmod);
  }
}
