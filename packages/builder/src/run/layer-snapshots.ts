// The store's extracted layers, as containerd's overlayfs snapshotter keeps them: each layer
// extracted once, in overlayfs' format (whiteouts as 0/0 devices, opaque directories by xattr),
// into <store>/snapshots/<chain id>/fs, and kept. An image's filesystem is then an overlay whose
// lower directories are its layers' snapshots, not a fresh extraction of all of it.
// A snapshot is named by its chain id (the diff_ids of the layer and of all below it, as the
// image spec defines it), not the layer's diff_id alone: how a layer is extracted depends on the
// layers below (a parent directory it lacks takes their metadata, a hard link to one of their files
// copies it up). It is extracted under a temp name and renamed when complete, so that a killed
// extraction never leaves half a layer under a snapshot's name.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { extractLayerSnapshot } from '../image/layer-reader.js';
import { processTag, sweepDead } from '../image/process-tag.js';
import type { BlobStore } from '../image/store.js';
import { mountReadOnlyOverlay } from './mount.js';

/** What a snapshot is made from: a layer blob and the digest of its uncompressed tar. */
export interface SnapshotLayer {
  descriptor: { digest: string };
  diffId: string;
}

const TEMP_PREFIX = '.tmp-';

/** With TSBUILD_DEBUG=snapshots, each extraction is said on stderr: how tests and the bench see that a warm store extracts nothing. */
export function debugSnapshots(line: string): void {
  if (process.env.TSBUILD_DEBUG?.split(',').includes('snapshots')) process.stderr.write(`tsbuild: debug: ${line}\n`);
}

/** The chain ids of `layers` (bottom first): the first layer's diff_id, then sha256("<chain id below> <diff_id>"). */
export function chainIds(layers: readonly SnapshotLayer[]): string[] {
  const ids: string[] = [];
  for (const layer of layers) {
    const below = ids[ids.length - 1];
    ids.push(below === undefined ? layer.diffId : `sha256:${crypto.createHash('sha256').update(`${below} ${layer.diffId}`).digest('hex')}`);
  }
  return ids;
}

/** Where in the store the extracted layers live. */
export const SNAPSHOTS_DIR = 'snapshots';

/** The snapshot directory of the chain id `chainId` in the store at `storeRoot`. */
export function snapshotDir(storeRoot: string, chainId: string): string {
  return path.join(storeRoot, SNAPSHOTS_DIR, chainId.replace(/^sha256:/, ''));
}

export class LayerSnapshots {
  private readonly dir: string;
  /** Extractions under way in this process, by chain id: steps that need the same layer wait for one. */
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly storeRoot: string, private readonly blobs: BlobStore) {
    this.dir = path.join(storeRoot, SNAPSHOTS_DIR);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    sweepDead(this.dir, TEMP_PREFIX);
  }

  /** The snapshot directories of `layers` (bottom first), extracted where missing; top first, as overlayfs takes lower directories. */
  async prepare(layers: readonly SnapshotLayer[]): Promise<string[]> {
    const ids = chainIds(layers);
    const dirs: string[] = [];
    for (const [i, layer] of layers.entries()) dirs.unshift(await this.snapshot(ids[i] as string, layer, dirs));
    return dirs;
  }

  /**
   * Whether a tree on the filesystem `tree` is on can be kept as a snapshot: moving it from
   * another would be a copy. Asked before the tree is settled (as its layer is archived): a
   * $TMPDIR on a tmpfs would have every step pay for nothing.
   */
  canKeep(tree: string): boolean {
    return fs.statSync(tree).dev === fs.statSync(this.dir).dev;
  }

  /**
   * Takes `tree`, the directory the top layer of `layers` was just archived from (a COPY's
   * staging tree, a RUN's upper directory) and settled as that layer's extraction (layer-settle.ts),
   * as the layer's snapshot, so that no later step extracts the layer. Returns whether it was
   * taken (moved into the store); if not, the tree is only fit to be removed.
   */
  adopt(layers: readonly SnapshotLayer[], tree: string): boolean {
    const chainId = chainIds(layers)[layers.length - 1];
    if (chainId === undefined) return false;
    const to = snapshotDir(this.storeRoot, chainId);
    if (fs.existsSync(to) || this.pending.has(chainId)) return false;
    const temp = path.join(this.dir, `${TEMP_PREFIX}${processTag()}-${crypto.randomBytes(6).toString('hex')}`);
    fs.mkdirSync(temp, { mode: 0o700 });
    try {
      fs.renameSync(tree, path.join(temp, 'fs'));
    } catch (err) {
      fs.rmdirSync(temp);
      if ((err as NodeJS.ErrnoException).code === 'EXDEV') return false;
      throw err;
    }
    fs.chmodSync(path.join(temp, 'fs'), 0o755);
    try {
      fs.renameSync(temp, to);
      debugSnapshots(`kept the tree of layer ${layers[layers.length - 1]!.diffId} as snapshot ${path.basename(to)}`);
    } catch (err) {
      // Another build made it meanwhile: theirs is as good, ours goes.
      const code = (err as NodeJS.ErrnoException).code;
      fs.rmSync(temp, { recursive: true, force: true });
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
    }
    return true;
  }

  private snapshot(chainId: string, layer: SnapshotLayer, below: string[]): Promise<string> {
    const target = path.join(snapshotDir(this.storeRoot, chainId), 'fs');
    if (fs.existsSync(target)) return Promise.resolve(target);
    let done = this.pending.get(chainId);
    if (!done) {
      done = this.extract(layer, path.dirname(target), [...below]).finally(() => this.pending.delete(chainId)).then(() => target);
      this.pending.set(chainId, done);
    }
    return done;
  }

  private async extract(layer: SnapshotLayer, to: string, below: string[]): Promise<void> {
    // Opened (and checked) first: a corrupt blob is reported by the store, naming it and its file.
    const blob = await this.blobs.open(layer.descriptor.digest);
    const temp = path.join(this.dir, `${TEMP_PREFIX}${processTag()}-${crypto.randomBytes(6).toString('hex')}`);
    try {
      fs.mkdirSync(path.join(temp, 'fs'), { recursive: true, mode: 0o755 });
      fs.chmodSync(path.join(temp, 'fs'), 0o755);
      await extractLayerSnapshot(blob, path.join(temp, 'fs'), below, layer.diffId);
      debugSnapshots(`extracted layer ${layer.diffId} into snapshot ${path.basename(to)}`);
      try {
        fs.renameSync(temp, to);
      } catch (err) {
        // Another build extracted it first: theirs is as good, ours goes.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
      }
    } catch (err) {
      blob.destroy();
      throw new Error(`layer ${layer.descriptor.digest}: ${(err as Error).message}`, { cause: err });
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
  }
}

/**
 * The longest lowerdir option passed to overlayfs: the kernel takes mount options in one page,
 * and a RUN's mount adds its upperdir and workdir to it.
 */
const MAX_LOWERDIR_OPTION = 3072;

/**
 * Short names for `lowers` (symlinks <linkDir>/<n>, which overlayfs follows when it mounts), so
 * that a deep stack of layers fits in one mount's options; undefined when even those do not fit.
 * An empty directory goes at the bottom: overlayfs mounts no fewer than two lower directories.
 */
export function shortLowerDirs(lowers: readonly string[], linkDir: string): string[] | undefined {
  const names = [...lowers, path.join(linkDir, 'empty')].map((_, i) => path.join(linkDir, String(i)));
  if (names.join(':').length > MAX_LOWERDIR_OPTION) return undefined;
  fs.mkdirSync(path.join(linkDir, 'empty'), { recursive: true, mode: 0o755 });
  [...lowers, path.join(linkDir, 'empty')].forEach((dir, i) => fs.symlinkSync(dir, names[i] as string));
  return names;
}

/** A read-only overlay of `lowers` (short names from shortLowerDirs) at `target`, made here. */
export function mountLayerStack(lowers: readonly string[], target: string): void {
  fs.mkdirSync(target, { mode: 0o755 });
  mountReadOnlyOverlay([...lowers], target);
}
