// What the build asks of the part that runs its steps: the solver's ops (solver.ts) make their
// results through it, and the build never sees a container or a mount. run-step.ts's RunExecutor
// is the real one (tsrunc on overlay or copied snapshots); a test may give the build its own.
import type { Mount } from '@tsrunc/spec-schemas';
import type { SnapshotChoice, SnapshotKind } from '../run/snapshot.js';
import type { StepOptions } from '../run/step-options.js';
import type { ImageState, Layer } from './image-state.js';
import type { RunStep } from './run-step.js';
import type { BuilderStore } from './store-root.js';

export interface StepExecutor {
  /**
   * The image's root filesystem at the step keyed `key`, made once per build and only ever read:
   * WORKDIR's and --chown's lookups, COPY --from's and RUN --mount=from's source.
   */
  filesystem(state: ImageState, key: string): Promise<string>;
  /**
   * Runs a RUN step on top of `state` (the image after the step keyed `parentKey`), its output
   * streamed to `onOutput`; resolves to the layer of what it changed, stored in the build's
   * store, and rejects with the step's failure (its message is the build's error).
   */
  run(step: RunStep, mounts: Mount[], state: ImageState, parentKey: string, onOutput: (chunk: Buffer) => void): Promise<Layer>;
  /**
   * Offered the tree a COPY or ADD step's layer (the top of `layers`) was just archived from:
   * true if the executor kept it (as that layer's snapshot), and the build must not remove it.
   */
  keepTree?(layers: readonly Layer[], tree: string): boolean;
  /** Called once, when every step has settled: releases the parents' mounts and scratch. */
  close(): void;
  /** The snapshot kinds the build's RUN steps ran on, for its summary. */
  readonly snapshotsUsed: ReadonlySet<SnapshotKind>;
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
