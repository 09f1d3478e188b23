// What the build asks of the part that runs its steps: the solver's ops (solver.ts) make their
// results through it, and the build never sees a container or a mount. run-step.ts's RunExecutor
// is the real one (tsrunc on overlay or copied snapshots); a test may give the build its own.
import type { Mount } from '@tsrunc/spec-schemas';
import type { SnapshotChoice, SnapshotKind, SnapshotParent } from '../run/snapshot.js';
import type { StepOptions } from '../run/step-options.js';
import type { StoredLayer } from '../image/layer-writer.js';
import type { ImageState, Layer } from './image-state.js';
import type { RunStep } from './run-step.js';
import type { BuilderStore } from './store-root.js';

export interface StepExecutor {
  /**
   * The image's root filesystem at the step keyed `key`, made once per build and only ever read:
   * WORKDIR's and --chown's lookups, COPY --from's and RUN --mount=from's source. Its `lowers`
   * are the directories its root shows (top first), where a COPY may link a file from.
   */
  filesystem(state: ImageState, key: string): Promise<SnapshotParent>;
  /**
   * Runs a RUN step on top of `state` (the image after the step keyed `parentKey`), its output
   * streamed to `onOutput`; resolves to the layer of what it changed, stored in the build's
   * store, and rejects with the step's failure (its message is the build's error).
   */
  run(step: RunStep, mounts: Mount[], state: ImageState, parentKey: string, onOutput: (chunk: Buffer) => void): Promise<Layer>;
  /**
   * Archives the tree a COPY or ADD step laid out as its layer (on `below`), and may keep the
   * tree as that layer's snapshot: then the build must not remove it. Without it, the build
   * archives the tree itself, and removes it.
   */
  commitTree?(below: readonly Layer[], tree: string): Promise<CommittedTree>;
  /** Called once, when every step has settled: releases the parents' mounts and scratch. */
  close(): void;
  /** The snapshot kinds the build's RUN steps ran on, for its summary. */
  readonly snapshotsUsed: ReadonlySet<SnapshotKind>;
}

/** A step's tree archived as its layer; `kept` if it became the layer's snapshot. */
export interface CommittedTree {
  layer: StoredLayer;
  kept: boolean;
}

/** What a build hands its executor when it makes it. */
export interface ExecutorSettings {
  store: BuilderStore;
  snapshotter: SnapshotChoice;
  sourceDateEpoch?: number;
  /** The solve's signal: aborted on Ctrl-C and on the build's first failure. */
  signal: AbortSignal;
  stepOptions?: StepOptions;
}

export type ExecutorFactory = (settings: ExecutorSettings) => StepExecutor;
