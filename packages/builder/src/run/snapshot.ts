// The filesystem a RUN step writes to: an overlay of the parent's layers (their snapshots, or the
// parent's flattened filesystem) with a fresh upper directory, whose content becomes the step's
// layer; or, where overlayfs cannot be mounted (or the configuration asks for it), a full copy of
// the parent whose differences are found by comparing the two trees.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { syncFilesystem } from '@tsrunc/runtime/platform';
import { mountOverlay, unmount } from './mount.js';
import { writeTreeDiff } from './tree-diff.js';

export type SnapshotKind = 'overlayfs' | 'copy';
/** What the configuration asks for: one kind, or overlayfs where it mounts and a copy elsewhere. */
export type SnapshotChoice = SnapshotKind | 'auto';

/** The choice as configured ($TSBUILD_SNAPSHOTTER or `run.snapshotter` in the TOML file); `from` names where it came from. */
export function parseSnapshotChoice(text: string, from: string): SnapshotChoice {
  if (text === 'auto' || text === 'overlayfs' || text === 'copy') return text;
  throw new Error(`${from}: unknown snapshotter "${text}" (auto, overlayfs, copy)`);
}

export interface StepSnapshot {
  kind: SnapshotKind;
  /** Where the step's container sees its root. */
  rootfs: string;
  /** Ends the step's writes; returns its changes as an overlay upper directory (whiteouts as 0/0 devices). */
  finish(): string;
  /** Unmounts what is still mounted; safe to call again. */
  release(): void;
}

/** The parent's filesystem: `root` holds all of it, `lowers` (top first) are its layers as overlayfs lower directories. */
export interface SnapshotParent {
  root: string;
  lowers: readonly string[];
}

export function openSnapshot(parent: SnapshotParent, workDir: string, choice: SnapshotChoice): StepSnapshot {
  const lower = parent.root;
  fs.mkdirSync(workDir, { recursive: true });
  if (choice === 'copy') return copySnapshot(lower, workDir);
  const upper = path.join(workDir, 'upper');
  const work = path.join(workDir, 'work');
  const merged = path.join(workDir, 'merged');
  for (const dir of [upper, work, merged]) fs.mkdirSync(dir);
  let volatile: boolean;
  try {
    volatile = mountOverlay([...parent.lowers], upper, work, merged, true);
  } catch (err) {
    if (choice === 'overlayfs') throw err;
    for (const dir of [upper, work, merged]) fs.rmSync(dir, { recursive: true, force: true });
    return copySnapshot(lower, workDir);
  }
  let mounted = true;
  const release = () => {
    if (mounted) unmount(merged);
    mounted = false;
  };
  const finish = () => {
    release();
    // The step's changes become a layer and a snapshot kept in the store: on disk now, in one
    // flush, as the unmount of a plain overlay would have made them.
    if (volatile) syncFilesystem(upper);
    return upper;
  };
  return { kind: 'overlayfs', rootfs: merged, finish, release };
}

function copySnapshot(lower: string, workDir: string): StepSnapshot {
  const rootfs = path.join(workDir, 'rootfs');
  const r = spawnSync('cp', ['-a', '--no-target-directory', lower, rootfs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`copy snapshot of ${lower}: ${r.stderr.trim()}`);
  return {
    kind: 'copy',
    rootfs,
    finish: () => {
      const diff = path.join(workDir, 'diff');
      fs.mkdirSync(diff);
      writeTreeDiff(lower, rootfs, diff);
      return diff;
    },
    release: () => {},
  };
}
