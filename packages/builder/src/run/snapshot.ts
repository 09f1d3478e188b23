// The filesystem a RUN step writes to: an overlay of the parent's layer directories with a fresh
// upper directory, whose content becomes the step's layer; or, where overlayfs cannot be mounted,
// a full copy of the parent whose differences are found by comparing the two trees.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mountOverlay, unmount } from './mount.js';

export type SnapshotKind = 'overlayfs' | 'copy';

export interface StepSnapshot {
  kind: SnapshotKind;
  /** Where the step's container sees its root. */
  rootfs: string;
  /** overlayfs: the upper directory (overlay whiteouts); copy: the modified copy. */
  changes: string;
  /** copy only: the unmodified parent to compare against. */
  base?: string;
  release(): void;
}

/** Prefers overlayfs; `forceCopy` or a failed overlay mount selects the copy-based snapshot. */
export function openSnapshot(lowerDirs: string[], workDir: string, forceCopy = false): StepSnapshot {
  fs.mkdirSync(workDir, { recursive: true });
  if (!forceCopy && lowerDirs.length > 0) {
    const upper = path.join(workDir, 'upper');
    const work = path.join(workDir, 'work');
    const merged = path.join(workDir, 'merged');
    for (const dir of [upper, work, merged]) fs.mkdirSync(dir, { recursive: true });
    try {
      mountOverlay(lowerDirs, upper, work, merged);
      return { kind: 'overlayfs', rootfs: merged, changes: upper, release: () => unmount(merged) };
    } catch {
      for (const dir of [upper, work, merged]) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return copySnapshot(lowerDirs, workDir);
}

function copySnapshot(lowerDirs: string[], workDir: string): StepSnapshot {
  const base = path.join(workDir, 'base');
  const copy = path.join(workDir, 'rootfs');
  fs.mkdirSync(base, { recursive: true });
  // Lowest layer first, so that upper layers overwrite; overlay whiteouts are applied by the
  // layer module when the layer directories come from extraction (they hold no whiteouts).
  for (const dir of [...lowerDirs].reverse()) cpArchive(`${dir}/.`, base);
  cpArchive(base, copy);
  return { kind: 'copy', rootfs: copy, changes: copy, base, release: () => {} };
}

function cpArchive(from: string, to: string): void {
  const r = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`copy snapshot ${from} -> ${to}: ${r.stderr.trim()}`);
}
