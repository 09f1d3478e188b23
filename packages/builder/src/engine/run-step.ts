// RUN: the step's command in a container run by tsrunc, on a snapshot of the parent image's
// filesystem (an overlay on its layers' snapshots, or a copy); what the step changed becomes its layer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Mount } from '@tsrunc/spec-schemas';
import type { RunInstruction } from '../dockerfile/index.js';
import { extractLayers } from '../image/layer-reader.js';
import { ExtractionSettler } from '../image/layer-settle.js';
import { storeDirectoryAsLayer, type LayerTreeKind, type StoredLayer } from '../image/layer-writer.js';
import { runInContainer } from '../run/container.js';
import { debugSnapshots, LayerSnapshots, mountLayerStack, shortLowerDirs } from '../run/layer-snapshots.js';
import { unmount } from '../run/mount.js';
import { NETWORK_FILES, type NetworkMode } from '../run/network.js';
import { DEFAULT_STEP_OPTIONS, type StepOptions } from '../run/step-options.js';
import { openSnapshot, type SnapshotChoice, type SnapshotKind, type SnapshotParent } from '../run/snapshot.js';
import type { CommittedTree, ExecutorFactory, StepExecutor } from './executor.js';
import type { ImageState, Layer } from './image-state.js';
import type { BuilderStore } from './store-root.js';
import { resolveUser } from './user.js';

export interface RunStep {
  args: string[];
  /** The step's own script, when args run it as a file. */
  script?: RunScript;
  env: string[];
  cwd: string;
  user: string;
  network: NetworkMode;
  /** --security=insecure (allowed by the build): every capability, nothing masked. */
  insecure: boolean;
}

/** A step's mount points that the parent did not have are not the step's output: remove them, and their new parents. */
function removeMountPoints(upper: string, lower: string, destinations: string[]): void {
  for (const destination of destinations) {
    let rel = path.posix.normalize(destination).replace(/^\/+/, '');
    while (rel !== '' && rel !== '.') {
      if (fs.existsSync(path.join(lower, rel))) break;
      const inUpper = path.join(upper, rel);
      const stat = fs.lstatSync(inUpper, { throwIfNoEntry: false });
      if (stat?.isDirectory() && fs.readdirSync(inUpper).length > 0) break;
      if (stat) fs.rmSync(inUpper, { force: true, recursive: true });
      rel = path.posix.dirname(rel);
    }
  }
}

/** A `RUN <<EOF` script that names its interpreter (#!): run as an executable file, as BuildKit does. */
export interface RunScript {
  /** Where the step sees it, read-only: /dev/pipes/<delimiter>. */
  path: string;
  content: string;
}

/**
 * The argv of a RUN: exec form as given; shell form through SHELL, which expands variables. A
 * heredoc that is the whole command is the script (run directly when it starts with #!); heredocs
 * feeding a command are handed to the shell with it, which reads them as it would in a script.
 */
export function runCommand(i: RunInstruction, shell: string[]): { args: string[]; script?: RunScript } {
  if (i.form === 'exec') return { args: i.args };
  const command = i.command.trim();
  const only = i.heredocs.length === 1 && /^<<-?["']?\w+["']?$/.test(command) ? i.heredocs[0] : undefined;
  // The content is not expanded here: the shell (or the script's interpreter) sees it as written.
  if (only) {
    if (!only.content.startsWith('#!')) return { args: [...shell, only.content] };
    const script = { path: `/dev/pipes/${only.name}`, content: only.content };
    return { args: [script.path], script };
  }
  return { args: [...shell, [i.command, ...i.heredocs.map((h) => h.content + h.name)].join('\n')] };
}

/** The build's network settings: `tsbuild build --network` and whether --allow network.host was given. */
export interface NetworkPolicy {
  /** What RUN gets without --network, or with --network=default. */
  default: NetworkMode;
  allowHost: boolean;
}

export function parseNetworkMode(value: string, what: string): NetworkMode {
  if (value === 'default' || value === 'none' || value === 'host') return value;
  throw new Error(`${what}=${value}: must be default, none or host`);
}

/**
 * RUN --network: the host's network only with the network.host entitlement, as BuildKit grants it;
 * a step's own namespace otherwise.
 */
export function runNetwork(flag: string | string[] | undefined, policy: NetworkPolicy): NetworkMode {
  const asked = flag === undefined ? 'default' : parseNetworkMode(String(flag), 'RUN --network');
  const mode = asked === 'default' ? policy.default : asked;
  if (mode === 'host' && !policy.allowHost) {
    throw new Error('RUN --network=host is not allowed: the build must be started with --allow network.host');
  }
  return mode;
}

/** The script, written beside the step's snapshot, bound read-only where the step runs it from. */
function scriptMount(script: RunScript, work: string): Mount {
  const file = path.join(work, 'script');
  fs.writeFileSync(file, script.content, { mode: 0o755 });
  return { destination: script.path, type: 'bind', source: file, options: ['rbind', 'ro'] };
}

export class RunExecutor implements StepExecutor {
  /** Parent filesystems, made once per build and reused by the steps on top of them. */
  private readonly parents = new Map<string, Promise<SnapshotParent>>();
  /** The read-only overlays of parents, unmounted when the build ends. */
  private readonly mounted: string[] = [];
  /** Cleared when an overlay would not mount: the build's other parents are flattened without trying. */
  private overlayMounts: boolean;
  private readonly snapshots: LayerSnapshots;
  private readonly scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-run-'));

  /** The snapshot kinds the build's RUN steps ran on, for its summary. */
  readonly snapshotsUsed = new Set<SnapshotKind>();

  constructor(private readonly store: BuilderStore, private readonly snapshotter: SnapshotChoice,
    private readonly sourceDateEpoch?: number, private readonly signal?: AbortSignal,
    private readonly options: StepOptions = DEFAULT_STEP_OPTIONS) {
    this.overlayMounts = snapshotter !== 'copy';
    this.snapshots = new LayerSnapshots(store.root, store.layout.blobs);
  }

  /**
   * The image's filesystem at this step, made once per build and only ever read: RUN's snapshot
   * lower, WORKDIR's and --chown's lookups, COPY --from's and RUN --mount=from's source.
   */
  filesystem(state: ImageState, key: string): Promise<SnapshotParent> {
    return this.parent(state, key);
  }

  private parent(state: ImageState, key: string): Promise<SnapshotParent> {
    let parent = this.parents.get(key);
    if (!parent) {
      parent = this.openParent(state, path.join(this.scratch, `lower-${this.parents.size}`));
      this.parents.set(key, parent);
    }
    return parent;
  }

  /**
   * A read-only overlay of the layers' snapshots at `root`; where overlayfs does not mount (or is
   * not to be used), or the layers are too many for one mount, their flattened extraction.
   */
  private async openParent(state: ImageState, root: string): Promise<SnapshotParent> {
    if (this.overlayMounts && state.layers.length > 0) {
      const lowers = shortLowerDirs(await this.snapshots.prepare(state.layers), `${root}.layers`);
      try {
        if (lowers) {
          mountLayerStack(lowers, root);
          this.mounted.push(root);
          return { root, lowers };
        }
      } catch (err) {
        if (this.snapshotter === 'overlayfs') throw err;
        this.overlayMounts = false;
        fs.rmdirSync(root);
      }
    }
    fs.mkdirSync(root, { mode: 0o755 });
    await extractLayers(this.store.layout.blobs, state.layers.map((l) => l.descriptor.digest), root);
    debugSnapshots(`flattened ${state.layers.length} layers into ${root}`);
    return { root, lowers: [root] };
  }

  async run(step: RunStep, mounts: Mount[], state: ImageState, parentKey: string, onOutput: (chunk: Buffer) => void): Promise<StoredLayer> {
    const parent = await this.parent(state, parentKey);
    const lower = parent.root;
    const work = fs.mkdtempSync(path.join(this.scratch, 'step-'));
    fs.chmodSync(work, 0o755);
    const snapshot = openSnapshot(parent, work, this.snapshotter);
    this.snapshotsUsed.add(snapshot.kind);
    if (step.script) mounts = [...mounts, scriptMount(step.script, work)];
    try {
      const { uid, gid } = resolveUser(snapshot.rootfs, step.user);
      const tail: Buffer[] = [];
      const code = await runInContainer({
        rootfs: snapshot.rootfs, args: step.args, env: step.env, cwd: step.cwd, uid, gid, additionalGids: [],
        network: step.network, insecure: step.insecure, mounts, options: this.options,
        onOutput: (chunk) => { tail.push(chunk); if (tail.length > 20) tail.shift(); onOutput(chunk); },
        ...(this.signal ? { signal: this.signal } : {}),
      });
      if (this.signal?.aborted) throw new Error('the build was interrupted');
      if (code !== 0) {
        const last = Buffer.concat(tail).toString('utf8').trimEnd().split('\n').slice(-5).join('\n');
        throw new Error(`process "${step.args.join(' ')}" did not complete successfully: exit code: ${code}${last ? `\n${last}` : ''}`);
      }
      const changes = snapshot.finish();
      removeMountPoints(changes, lower, [...NETWORK_FILES, ...mounts.map((m) => m.destination)]);
      // An upper directory on the parent's snapshots is the layer's snapshot in the making: kept,
      // the next RUN on this layer extracts nothing.
      const { layer } = await this.commit(state.layers, changes, 'overlay-upper', snapshot.kind === 'overlayfs');
      return layer;
    } finally {
      snapshot.release();
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  /** Kept as the layer's snapshot where RUN steps use snapshots (overlayfs): the next RUN on it extracts nothing. */
  commitTree(below: readonly Layer[], tree: string): Promise<CommittedTree> {
    return this.commit(below, tree, 'tree', true);
  }

  /**
   * Archives `tree` as the layer on `below`; where it may become that layer's snapshot, it is
   * settled as its extraction in the same walk, and kept.
   */
  private async commit(below: readonly Layer[], tree: string, kind: LayerTreeKind, keepable: boolean): Promise<CommittedTree> {
    const settler = keepable && this.overlayMounts && this.snapshots.canKeep(tree) ? new ExtractionSettler(kind, this.sourceDateEpoch) : undefined;
    const layer = await storeDirectoryAsLayer(this.store.layout.blobs, tree, kind, this.sourceDateEpoch, settler);
    return { layer, kept: settler?.fit === true && this.snapshots.adopt([...below, layer], tree) };
  }

  close(): void {
    for (const root of this.mounted.splice(0)) unmount(root);
    fs.rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** The executor a build makes unless it is given another: RUN steps in tsrunc containers. */
export const runExecutor: ExecutorFactory = (s) => new RunExecutor(s.store, s.snapshotter, s.sourceDateEpoch, s.signal, s.stepOptions);
