// Where tsbuild keeps its images, blobs and cache: --root, $TSBUILD_ROOT, `root` in the TOML
// configuration file ($TSBUILD_CONFIG or /etc/tsbuild/tsbuild.toml), or /var/lib/tsbuild.
// Opening the store cleans up after builds that were killed; a build holds the store's directory
// locked shared for its whole life, prune exclusively, so prune never removes a blob a running
// build has made but not yet tagged or cached.
import fs from 'node:fs';
import path from 'node:path';
import { readConfig } from '../config/config-file.js';
import { DirLock } from '../image/file-lock.js';
import { OciLayout } from '../image/layout.js';
import { sweepDeadTemps } from '../image/process-tag.js';
import { CompressedLayers } from '../image/layer-compression.js';
import { BuildCache } from './cache.js';
import { beginRun, sweepDeadRuns } from './run-record.js';

/** Where the store keeps the identities of the blobs it found intact (BlobStore.keepChecks). */
const BLOB_CHECKS_FILE = 'blob-checks.json';
/** The store's directories whose files are replaced whole (writeFileAtomic) by builds: the image index, the cache's tables, the blob checks, the context digests. */
const REPLACED_FILE_DIRS = ['layout', 'cache', '.', 'context-hashes'];

export interface BuilderStore {
  root: string;
  /** The local image store: an OCI layout whose ref names are the tags ("name:tag"). */
  layout: OciLayout;
  cache: BuildCache;
  /** The compressed forms of its layers, made as images leave the store. */
  compressed: CompressedLayers;
}

export function storeRoot(flag?: string): string {
  return path.resolve(flag ?? process.env.TSBUILD_ROOT ?? readConfig().root ?? '/var/lib/tsbuild');
}

/** What a tsbuild says about the store on stderr, apart from a build's progress. */
function say(line: string): void {
  process.stderr.write(`tsbuild: ${line}\n`);
}

/**
 * Opens (making it if need be) the store at `root`, first removing what killed builds left: their
 * containers, mounts and scratch directories, and the temp files they were writing. `report` is
 * told each thing removed.
 */
export async function openStore(root: string, report: (line: string) => void = say): Promise<BuilderStore> {
  fs.mkdirSync(root, { recursive: true });
  await sweepDeadRuns(root, report);
  const layout = await OciLayout.open(path.join(root, 'layout'), { create: true });
  const cacheFile = path.join(root, 'cache', 'index.json');
  const partial = [...layout.blobs.sweepTemp(), ...REPLACED_FILE_DIRS.flatMap((dir) => sweepDeadTemps(path.join(root, dir)))];
  for (const file of partial) report(`removed ${file}, a partial file of a killed build`);
  layout.blobs.keepChecks(path.join(root, BLOB_CHECKS_FILE));
  return { root, layout, cache: new BuildCache(cacheFile), compressed: CompressedLayers.open(layout.blobs, root) };
}

/** A build's hold on the store: its scratch directory recorded, and the store locked against prune. */
export interface BuildSession {
  /** Runs `prune` if no other build runs (the last to finish prunes), giving up this build's hold first. */
  pruneIfAlone(prune: () => Promise<void>): Promise<void>;
  /** Keeps what the build found of the blobs' integrity, removes its scratch directory and record, and releases the store. */
  end(): void;
}

export async function beginBuild(store: BuilderStore): Promise<BuildSession> {
  let hold: DirLock | undefined = await DirLock.acquire(store.root, 'shared');
  const endRun = beginRun(store.root);
  return {
    async pruneIfAlone(prune) {
      hold?.release();
      hold = DirLock.tryAcquire(store.root, 'exclusive');
      if (hold) await prune();
    },
    end() {
      try {
        store.layout.blobs.saveChecks();
      } finally {
        endRun();
        hold?.release();
      }
    },
  };
}

/** Waits until no build holds the store, for prune; `waiting` is told when that means waiting. */
export async function lockStoreExclusive(store: BuilderStore, waiting: () => void): Promise<DirLock> {
  const lock = DirLock.tryAcquire(store.root, 'exclusive');
  if (lock) return lock;
  waiting();
  return DirLock.acquire(store.root, 'exclusive');
}

/** "busybox" -> "busybox:latest"; names with a tag or digest are kept. */
export function normalizeReference(name: string): string {
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  return lastSegment.includes(':') || name.includes('@') ? name : `${name}:latest`;
}
