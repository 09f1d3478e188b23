// The build: the Dockerfile's stages as the vertices of one solve (solver.ts), in dependency
// order (independent ones concurrently), each instruction applied to the stage's image, the
// file-changing steps as the solver's ops, looked up in the cache by content and recorded as each
// completes. The first failure cancels the rest; the build ends once nothing of it runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { History } from '@tsrunc/spec-schemas';
import {
  expandWords, parseTrigger, resolveStage, stageDependencies,
  type AddInstruction, type CopyInstruction, type Dockerfile, type Instruction, type RunInstruction, type Stage,
} from '../dockerfile/index.js';
import { storeDirectoryAsLayer } from '../image/layer-writer.js';
import type { Puller } from '../registry/pull.js';
import { chainIds, snapshotDir } from '../run/layer-snapshots.js';
import type { SnapshotChoice, SnapshotKind } from '../run/snapshot.js';
import type { StepOptions } from '../run/step-options.js';
import { stageAdd } from './add-archive.js';
import { argHistory, runHistory } from './arg-history.js';
import { stepKey } from './cache.js';
import { planCopy, planDigest, stageCopy, stageHeredocs, type CopyFlags, type SourceRoot } from './copy.js';
import type { ExecutorFactory, StepExecutor } from './executor.js';
import { compilePattern, IgnoreMatcher } from './ignore.js';
import { fetchSources, sortAddSources } from './fetched-sources.js';
import { PlanDigests } from './plan-digests.js';
import { parseChecksum } from './remote-source.js';
import { hostArchitecture } from '../registry/platform.js';
import { envMap, envValue, scratchImage, type ImageState, type Layer } from './image-state.js';
import { applyMetadata, type StageContext } from './metadata.js';
import type { Progress } from './progress.js';
import { proxyEnv } from './proxy-args.js';
import { bindSource, mountKey, parseRunMount, resolveRunMounts, type RunMountSpec } from './run-mounts.js';
import { runCommand, runExecutor, runNetwork, type NetworkPolicy, type RunStep } from './run-step.js';
import { loadBase } from './stage-base.js';
import { Solver, type ResultCache, type Vertex } from './solver.js';
import { SshForwarder } from './ssh-agent.js';
import { StagingTree } from './staging-tree.js';
import { resolveUser } from './user.js';
import { stageWorkdir } from './workdir.js';
import type { BuilderStore } from './store-root.js';
import { YieldPoint } from './yield-point.js';

export interface BuildRequest {
  dockerfile: Dockerfile;
  dockerfileName: string;
  context: SourceRoot;
  buildArgs: Record<string, string>;
  target?: string;
  noCache: boolean;
  /** Aborted on Ctrl-C: running steps are killed and everything they mounted is released. */
  signal?: AbortSignal;
  /** --secret id=ID,src=FILE: what RUN --mount=type=secret binds. */
  secrets?: Record<string, string>;
  /** --ssh ID=SOCKET: the agents RUN --mount=type=ssh reaches. */
  sshAgents?: Record<string, string>;
  sourceDateEpoch?: number;
  /** How RUN steps get a writable root: overlayfs, a copy, or overlayfs where it mounts (auto). */
  snapshotter?: SnapshotChoice;
  /** --allow security.insecure: RUN --security=insecure may run with every privilege. */
  allowInsecure?: boolean;
  /** --network and --allow network.host: RUN's network; a namespace of the step's own unless said otherwise. */
  network?: NetworkPolicy;
  store: BuilderStore;
  progress: Progress;
  /** --add-host, --ulimit and --shm-size: what every RUN step's container gets. */
  stepOptions?: StepOptions;
  /** --build-context NAME=docker-image://REF: the image FROM NAME and COPY --from=NAME take, where NAME is not a stage. */
  imageContexts?: Record<string, string>;
  /** --build-context NAME=DIR: the files FROM NAME, COPY --from=NAME and RUN --mount from=NAME take, where NAME is not a stage. */
  localContexts?: Record<string, SourceRoot>;
  /** Pulls FROM and COPY --from images that are not in the local store. */
  registry?: Puller;
  /** Makes what runs the build's steps: tsrunc containers (runExecutor) unless a test gives its own. */
  executor?: ExecutorFactory;
}

interface StageResult {
  state: ImageState;
  key: string;
}

/** The args every build has, as BuildKit predefines them (usable once declared with ARG). */
function predefinedArgs(): Record<string, string> {
  const arch = hostArchitecture();
  const platform = `linux/${arch}`;
  return {
    TARGETPLATFORM: platform, TARGETOS: 'linux', TARGETARCH: arch, TARGETVARIANT: '',
    BUILDPLATFORM: platform, BUILDOS: 'linux', BUILDARCH: arch, BUILDVARIANT: '',
  };
}

/** The store's build cache as the solver reads and records it: a step's layer, null where the step changes no file. */
function layerCache(store: BuilderStore): ResultCache<Layer | null> {
  return {
    lookup: async (key, log) => (await store.cache.lookup(key, store.layout.blobs, log))?.layer,
    record: (key, layer) => store.cache.record(key, layer),
  };
}

/** A layer this build has just made, stamped with the time: its history's, now and whenever the cache gives it back. */
function madeNow<L extends Layer | null>(layer: L): L {
  return layer && { ...layer, created: new Date().toISOString() };
}

const stageVertexId = (index: number) => `stage ${index}`;

/** A scratch directory of the step's; TMPDIR is read when it is made, as a build sets its own (run-record.ts). */
function scratchDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-'));
}

/** --exclude (each pattern expanded and checked) and --parents, as planCopy takes them. */
function copyFlagsOf(i: CopyInstruction | AddInstruction, ctx: StageContext): CopyFlags {
  const raw = i.flags.exclude;
  const exclude = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]).map((p) => ctx.expand(p));
  for (const pattern of exclude) {
    try {
      compilePattern(pattern.replace(/^!/, ''));
    } catch (err) {
      throw new Error(`${i.kind} --exclude=${pattern}: ${(err as Error).message.replace(/^\.dockerignore: /, '')}`);
    }
  }
  return { exclude, parents: i.kind === 'COPY' && i.flags.parents === 'true' };
}

export class Build {
  private readonly solver: Solver<Layer | null>;
  private readonly globalArgs: Record<string, string | undefined> = {};
  private readonly runner: StepExecutor;
  private readonly ssh: SshForwarder;
  private readonly yieldPoint: YieldPoint;
  /** What COPY --from reads of an image's filesystem, kept in the store by its layers. */
  private readonly planDigests: PlanDigests;

  constructor(private readonly req: BuildRequest) {
    this.planDigests = PlanDigests.open(path.join(req.store.root, 'cache', 'plan-digests.json'));
    // Everything the build runs watches the solver's signal: aborted on Ctrl-C and on the first failure.
    this.solver = new Solver({ cache: layerCache(req.store), noCache: req.noCache, ...(req.signal ? { signal: req.signal } : {}) });
    this.yieldPoint = new YieldPoint(this.solver.signal);
    this.runner = (req.executor ?? runExecutor)({
      store: req.store, snapshotter: req.snapshotter ?? 'auto', sourceDateEpoch: req.sourceDateEpoch,
      signal: this.solver.signal, stepOptions: req.stepOptions,
    });
    this.ssh = new SshForwarder(req.sshAgents ?? {});
    const lookup = (name: string) => this.globalArgs[name];
    for (const arg of req.dockerfile.globalArgs.flatMap((a) => a.args)) {
      const fallback = arg.defaultRaw !== undefined ? expandWords(arg.defaultRaw, lookup, req.dockerfile.escape) : undefined;
      this.globalArgs[arg.name] = req.buildArgs[arg.name] ?? predefinedArgs()[arg.name] ?? fallback;
    }
  }

  /** Builds the target (the last stage when none is named) and what it needs, nothing else. */
  async run(): Promise<ImageState> {
    const df = this.req.dockerfile;
    const target = this.req.target !== undefined ? resolveStage(df, this.req.target) : df.stages[df.stages.length - 1]!;
    const dependencies = stageDependencies(df); // also rejects cycles before anything is built
    // Every stage the target needs starts now: stages that do not depend on each other run side
    // by side (their RUN containers in parallel). A reference to a stage that only expansion
    // reveals (COPY --from=$NAME) starts that stage when the step reads it.
    // A Set visits what is added while it is iterated: a worklist that no chain of stages, however
    // long, can overflow as recursion would.
    const needed = new Set<number>([target.index]);
    for (const index of needed) for (const dep of dependencies.get(index) ?? []) needed.add(dep);
    try {
      const vertices = df.stages.map((stage) => this.stageVertex(stage));
      const result = await this.solver.solve<StageResult>(vertices, stageVertexId(target.index), [...needed].map(stageVertexId));
      // The context's file digests, of every step that read the context, no longer keep what it lost.
      this.req.context.hashes?.prune();
      this.planDigests.save((chainId) => fs.existsSync(snapshotDir(this.req.store.root, chainId)));
      return result.state;
    } finally {
      // Only now, with every step settled, is nothing using the parents' mounts or the agents.
      this.runner.close();
      this.ssh.close();
    }
  }

  /**
   * A stage as a vertex of the solve, its only dep the stage it is built on. Vertices are stages,
   * not steps: a stage's steps are a chain whose words (ARG, ENV, the base's ONBUILD triggers) are
   * only known once its base is solved, so they cannot be laid out before the solve as BuildKit's
   * frontend lays out LLB; and stages are what runs side by side. The unit of caching is still the
   * step: each is one of the solver's ops. The stages a step reads (COPY --from, RUN
   * --mount=from) are the solver's inputs, awaited at that step, so that the steps before it run
   * beside the stage it copies from.
   */
  private stageVertex(stage: Stage): Vertex<StageResult> {
    const id = stageVertexId(stage.index);
    let baseName: string;
    try {
      baseName = expandWords(stage.base, (n) => this.globalArgs[n], this.req.dockerfile.escape);
    } catch (err) {
      // A FROM that does not expand fails the builds that need its stage, no other.
      return { id, deps: [], solve: () => Promise.reject(err) };
    }
    const earlier = this.findStage(baseName);
    const parent = earlier && earlier.index < stage.index ? earlier : undefined;
    return {
      id,
      deps: parent ? [stageVertexId(parent.index)] : [],
      solve: (inputs) => this.buildStage(stage, baseName, inputs[0] as StageResult | undefined),
    };
  }

  private findStage(ref: string): Stage | undefined {
    const stages = this.req.dockerfile.stages;
    if (/^\d+$/.test(ref)) return stages[Number(ref)];
    return stages.find((s) => s.name === ref.toLowerCase());
  }

  /** The local directory --build-context gave `name`, unless a stage is so named. */
  private localContext(name: string): SourceRoot | undefined {
    return this.findStage(name) ? undefined : this.req.localContexts?.[name];
  }

  /** FROM a local named context: its files as the one layer of an image with no configuration, as from scratch. */
  private async localBase(name: string, source: SourceRoot): Promise<StageResult> {
    const plan = planCopy(source, ['.'], '/');
    const key = stepKey(['FROM', 'context', planDigest(source, plan)]);
    const layer = await this.layerStep(key, [], this.req.progress.step(`[context ${name}] load from client`), async (staging) =>
      StagingTree.with(staging, (tree) => { stageCopy(source, plan, tree, { uid: 0, gid: 0 }); return true; }));
    const state = scratchImage();
    if (layer) state.layers.push(layer);
    return { state, key };
  }

  private label(stage: Stage): string {
    return stage.name ?? `stage-${stage.index}`;
  }

  private async buildStage(stage: Stage, baseName: string, parent: StageResult | undefined): Promise<StageResult> {
    const df = this.req.dockerfile;
    let state: ImageState;
    let key: string;
    if (parent) {
      state = structuredClone(parent.state);
      key = parent.key;
    } else if (this.req.localContexts?.[baseName] && !this.findStage(baseName)) {
      ({ state, key } = await this.localBase(baseName, this.req.localContexts[baseName]));
    } else {
      // The stage's own failure, whichever stage reads it: it names the FROM line.
      const base = await loadBase(this.req.store, this.req.imageContexts?.[baseName] ?? baseName, this.req.registry).catch((err: Error) => {
        throw new Error(`${this.req.dockerfileName}:${stage.line}: ${err.message}`);
      });
      state = base.state;
      key = stepKey(['FROM', base.key]);
    }
    const stageArgs: Record<string, string | undefined> = {};
    const env = envMap(state.config.config?.Env);
    const ctx: StageContext = {
      expand: (word) => expandWords(word, (n) => stageArgs[n] ?? env.get(n), df.escape),
      env,
      shell: state.config.config?.Shell ?? ['/bin/sh', '-c'],
      cmdSet: false,
    };
    const steps = [...this.triggers(stage, state), ...stage.instructions];
    const total = steps.length + 1;
    // The vertex is shown once the base is there: its title counts the base's triggers.
    this.req.progress.step(`[${this.label(stage)} 1/${total}] FROM ${baseName}`).done();
    for (const [i, instruction] of steps.entries()) {
      await this.yieldPoint.pass();
      const title = `[${this.label(stage)} ${i + 2}/${total}] ${instruction.original}`;
      key = await this.step(instruction, state, ctx, stageArgs, key, title);
    }
    return { state, key };
  }

  /**
   * The base's ONBUILD triggers, which run first in the stage built on it (whether the base is an
   * image or an earlier stage, as BuildKit does); they are not passed on to this stage's children.
   * A trigger's errors point at the stage's FROM line.
   */
  private triggers(stage: Stage, state: ImageState): Instruction[] {
    const config = state.config.config;
    const triggers = config?.OnBuild ?? [];
    if (config) delete config.OnBuild;
    return triggers.map((text) => {
      try {
        return { ...parseTrigger(text, stage.line, this.req.dockerfile.escape), original: `ONBUILD ${text}` };
      } catch (err) {
        throw new Error(`${this.req.dockerfileName}:${stage.line}: ONBUILD trigger "${text}" of the base: ${(err as Error).message}`);
      }
    });
  }

  /**
   * A step's history entry, timed by its layer (or by SOURCE_DATE_EPOCH). A step without a layer
   * has no time of its own: finalizeImage gives it its neighbours', as BuildKit's exporter does.
   */
  private history(createdBy: string, layer: Layer | null): History {
    const created = this.epoch() ?? layer?.created;
    return { ...(created ? { created } : {}), created_by: createdBy, comment: 'buildkit.dockerfile.v0', ...(layer ? {} : { empty_layer: true }) };
  }

  /** The snapshot kinds RUN steps used, for the build's summary ("which one a build used"). */
  snapshots(): SnapshotKind[] {
    return [...this.runner.snapshotsUsed];
  }

  /** SOURCE_DATE_EPOCH as the time every history entry and the image carry, if it is set. */
  epoch(): string | undefined {
    return this.req.sourceDateEpoch === undefined ? undefined : new Date(this.req.sourceDateEpoch * 1000).toISOString();
  }

  private where(instruction: Instruction): string {
    return `${this.req.dockerfileName}:${instruction.line}`;
  }

  private async step(i: Instruction, state: ImageState, ctx: StageContext,
    stageArgs: Record<string, string | undefined>, parentKey: string, title: string): Promise<string> {
    if (i.kind === 'ARG') {
      for (const arg of i.args) {
        const fallback = arg.defaultRaw !== undefined ? ctx.expand(arg.defaultRaw) : this.globalArgs[arg.name];
        stageArgs[arg.name] = this.req.buildArgs[arg.name] ?? predefinedArgs()[arg.name] ?? fallback;
      }
      (state.config.history ??= []).push(this.history(argHistory(i.args.map((a) => a.name), stageArgs), null));
      return stepKey([parentKey, 'ARG', JSON.stringify(i.args.map((a) => [a.name, stageArgs[a.name] ?? null]))]);
    }
    const history = applyMetadata(state.config, i, ctx);
    const createsDirectory = i.kind === 'WORKDIR' && state.config.config?.WorkingDir !== '/';
    if (history !== undefined && !createsDirectory) {
      (state.config.history ??= []).push(this.history(history, null));
      return stepKey([parentKey, history]);
    }
    // The vertex starts once the stages it reads are built, as BuildKit shows it: a COPY --from
    // waiting on a stage built beside it is not yet running.
    await this.awaitStagesReadBy(i, ctx);
    const progress = this.req.progress.step(title);
    try {
      switch (i.kind) {
        case 'WORKDIR':
          return await this.workdir(state, parentKey, history!, progress);
        case 'COPY':
        case 'ADD':
          return await this.copy(i, state, ctx, parentKey, progress);
        case 'RUN':
          return await this.runStep(i, state, ctx, stageArgs, parentKey, progress);
        default:
          throw new Error(`${i.kind} is not supported`);
      }
    } catch (err) {
      // A step that fails once the solve is cancelled was stopped by another's failure (or by
      // Ctrl-C): BuildKit marks it CANCELED, and only the first failure as an ERROR, with the
      // error's first line (the rest, a RUN's last output, is the vertex's log already).
      if (this.solver.signal.aborted) progress.canceled();
      else progress.error((err as Error).message.split('\n')[0]!);
      // An error of a stage this step reads already names its own line.
      const message = (err as Error).message;
      throw message.startsWith(`${this.req.dockerfileName}:`) ? err : new Error(`${this.where(i)}: ${message}`);
    }
  }

  /**
   * The stages a COPY/ADD --from or a RUN --mount from= names. A failure of theirs is already the
   * solve's (the first), so the step is not shown: it never started.
   */
  private async awaitStagesReadBy(i: Instruction, ctx: StageContext): Promise<void> {
    const mounts = i.kind === 'RUN' ? [i.flags.mount ?? []].flat() : [];
    const names = [
      ...(i.kind === 'COPY' || i.kind === 'ADD') && typeof i.flags.from === 'string' ? [ctx.expand(i.flags.from)] : [],
      ...mounts.map((m) => /(?:^|,)from=([^,]+)/.exec(ctx.expand(m))?.[1]).filter((name): name is string => name !== undefined),
    ];
    for (const name of names) {
      const stage = this.findStage(name);
      if (stage) await this.solver.input(stageVertexId(stage.index));
    }
  }

  /**
   * A step whose layer is a staged tree, laid on `below`: looked up in the cache by `key`, else
   * laid out by `fill` (which returns false when the step changes nothing: no layer) and stored.
   * The tree goes to the executor, which may keep it as the layer's snapshot, or is removed.
   */
  private async layerStep(key: string, below: readonly Layer[], progress: ReturnType<Progress['step']>, fill: (staging: string) => Promise<boolean>): Promise<Layer | null> {
    const { result: layer, cached } = await this.solver.op({
      key,
      log: (line) => progress.log(line),
      exec: async () => {
        const staging = scratchDir();
        let kept = false;
        try {
          if (!await fill(staging)) return null;
          const committed = await this.runner.commitTree?.(below, staging)
            ?? { layer: await storeDirectoryAsLayer(this.req.store.layout.blobs, staging, 'tree', this.req.sourceDateEpoch), kept: false };
          kept = committed.kept;
          return madeNow(committed.layer);
        } finally {
          if (!kept) fs.rmSync(staging, { recursive: true, force: true });
        }
      },
    });
    progress.done(cached);
    return layer;
  }

  /** WORKDIR: the directory, created with the USER's ownership where the image lacks it. */
  private async workdir(state: ImageState, parentKey: string, history: string, progress: ReturnType<Progress['step']>): Promise<string> {
    const user = state.config.config?.User ?? '';
    const key = stepKey([parentKey, history, user]);
    const layer = await this.layerStep(key, state.layers, progress, async (staging) => {
      const rootfs = (await this.runner.filesystem(state, parentKey)).root;
      return stageWorkdir(rootfs, staging, state.config.config!.WorkingDir!, resolveUser(rootfs, user));
    });
    if (layer) state.layers.push(layer);
    (state.config.history ??= []).push(this.history(history, layer));
    return key;
  }

  /** A stage's (or an image's) filesystem, flattened once per build; read, never written. */
  private async stageFilesystem(ref: string): Promise<{ dir: string; lowers: readonly string[]; key: string; layers: readonly Layer[] }> {
    const stage = this.findStage(ref);
    // Not a stage: an image, from an OCI layout or the local store, as FROM would take it.
    const result = stage ? await this.solver.input<StageResult>(stageVertexId(stage.index)) : await loadBase(this.req.store, this.req.imageContexts?.[ref] ?? ref, this.req.registry);
    const { root, lowers } = await this.runner.filesystem(result.state, result.key);
    return { dir: root, lowers, key: result.key, layers: result.state.layers };
  }

  private async sourceFor(i: CopyInstruction | AddInstruction): Promise<{ source: SourceRoot; key: string }> {
    const from = i.flags.from;
    if (typeof from !== 'string') return { source: this.req.context, key: 'context' };
    const local = this.localContext(from);
    if (local) return { source: local, key: `context ${from}` };
    const { dir, lowers, key, layers } = await this.stageFilesystem(from);
    const chainId = chainIds(layers).at(-1);
    const snapshot = chainId === undefined ? {} : { snapshot: { chainId, plans: this.planDigests, lowers } };
    return { source: { dir, ignore: new IgnoreMatcher([]), label: `stage "${from}"`, ...snapshot }, key };
  }

  private async copy(i: CopyInstruction | AddInstruction, state: ImageState, ctx: StageContext, parentKey: string,
    progress: ReturnType<Progress['step']>): Promise<string> {
    const words = i.sources.map((s) => ctx.expand(s));
    const workdir = state.config.config?.WorkingDir || '/';
    const destWord = ctx.expand(i.dest);
    // Several sources, downloads among them, always go into a directory, as does ".".
    const intoDirectory = destWord.endsWith('/') || destWord === '.' || words.length > 1;
    const dest = path.posix.resolve(workdir, destWord) + (intoDirectory && path.posix.resolve(workdir, destWord) !== '/' ? '/' : '');
    const copyFlags = copyFlagsOf(i, ctx);
    const { urls: remoteWords, repositories: gitWords, local: localWords } = i.kind === 'ADD' ? sortAddSources(words) : { urls: [], repositories: [], local: words };
    const checksum = i.kind === 'ADD' ? parseChecksum(typeof i.flags.checksum === 'string' ? ctx.expand(i.flags.checksum) : undefined, remoteWords, words) : undefined;
    const owner = await this.chownOwner(i.flags.chown, ctx, state, parentKey);
    const chmod = typeof i.flags.chmod === 'string' ? parseInt(ctx.expand(i.flags.chmod), 8) : undefined;
    if (chmod !== undefined && (Number.isNaN(chmod) || chmod > 0o7777)) throw new Error(`invalid --chmod=${String(i.flags.chmod)}`);
    const { source, key: sourceKey } = await this.sourceFor(i);
    const plan = planCopy(source, localWords, dest, copyFlags);
    const fetchDir = scratchDir();
    try {
      const keepGitDir = i.kind === 'ADD' && i.flags['keep-git-dir'] === 'true';
      const fetched = await fetchSources(remoteWords, gitWords, fetchDir, dest, { checksum, keepGitDir, exclude: copyFlags.exclude ?? [], signal: this.solver.signal });
      const heredocs = i.heredocs.map((h) => ({ name: h.name, content: h.expand ? ctx.expand(h.content) : h.content }));
      const key = stepKey([parentKey, i.kind, JSON.stringify([words, dest, owner, chmod ?? null, heredocs, copyFlags, keepGitDir]), sourceKey,
        planDigest(source, plan), ...fetched.map((f) => f.digest)]);
      const layer = await this.layerStep(key, state.layers, progress, async (staging) => StagingTree.with(staging, async (tree) => {
        tree.makeDirectoriesAs({ ...owner, mode: chmod ?? 0o755 });
        if (i.kind === 'ADD') await stageAdd(source, plan, dest, tree, owner, chmod);
        else stageCopy(source, plan, tree, owner, chmod);
        for (const f of fetched) stageCopy(f.source, f.plan, tree, owner, chmod);
        stageHeredocs(heredocs, dest, tree, owner, chmod);
        return true;
      }, { lower: (await this.runner.filesystem(state, parentKey)).root, sourceDateEpoch: this.req.sourceDateEpoch }));
      if (layer) state.layers.push(layer);
      // BuildKit names a heredoc source by its marker, after the paths.
      const sources = [...words, ...i.heredocs.map((h) => `<<${h.name}`)];
      (state.config.history ??= []).push(this.history(`${i.kind} ${[...sources, destWord].join(' ')} # buildkit`, layer));
      return key;
    } finally {
      fs.rmSync(fetchDir, { recursive: true, force: true });
    }
  }

  /**
   * What a RUN's bind mounts read, for its cache key, as BuildKit counts it: another stage by its
   * key and the path bound, the context by the content of what is bound.
   */
  private async bindKeys(specs: RunMountSpec[]): Promise<string[]> {
    const keys: string[] = [];
    for (const m of specs.filter((spec) => spec.type === 'bind')) {
      const stage = m.options.from;
      // The build context, or a local one named by --build-context, counts by content.
      const context = stage === undefined ? this.req.context : this.localContext(stage);
      if (context) {
        const from = bindSource(context.dir, m);
        keys.push(planDigest(context, { entries: [{ from, to: m.target, base: from }], exclude: new IgnoreMatcher([]) }));
      } else {
        const root = await this.stageFilesystem(stage!);
        keys.push(`${root.key}:${bindSource(root.dir, m)}`);
      }
    }
    return keys;
  }

  private async runStep(i: RunInstruction, state: ImageState, ctx: StageContext, stageArgs: Record<string, string | undefined>,
    parentKey: string, progress: ReturnType<Progress['step']>): Promise<string> {
    const insecure = i.flags.security === 'insecure';
    if (insecure && !this.req.allowInsecure) {
      throw new Error('RUN --security=insecure is not allowed: the build must be started with --allow security.insecure');
    }
    const mountFlags = i.flags.mount === undefined ? [] : Array.isArray(i.flags.mount) ? i.flags.mount : [i.flags.mount];
    let sshMounts = 0;
    const mountSpecs = mountFlags.map((m) => {
      const spec = parseRunMount(ctx.expand(m), sshMounts);
      if (spec.type === 'ssh') sshMounts++;
      return spec;
    });
    // The first ssh mount is the agent the step's ssh clients find, as BuildKit sets it.
    const sshSocket = mountSpecs.find((m) => m.type === 'ssh')?.target;
    const env = [...state.config.config?.Env ?? [], ...sshSocket ? [`SSH_AUTH_SOCK=${sshSocket}`] : []];
    // Declared ARGs reach the step's environment, ENV winning over them, as in BuildKit.
    const argEnv = Object.entries(stageArgs)
      .filter(([name, value]) => value !== undefined && envValue(env, name) === undefined)
      .map(([name, value]) => `${name}=${value}`);
    const step: RunStep = {
      ...runCommand(i, ctx.shell),
      env: [...env, ...argEnv],
      cwd: state.config.config?.WorkingDir || '/',
      user: state.config.config?.User ?? '',
      network: runNetwork(i.flags.network, this.req.network ?? { default: 'default', allowHost: false }),
      insecure,
    };
    const key = stepKey([parentKey, 'RUN', JSON.stringify(step), mountKey(mountSpecs), ...await this.bindKeys(mountSpecs)]);
    const { result: layer, cached } = await this.solver.op({
      key,
      log: (line) => progress.log(line),
      exec: async () => {
        let pending = '';
        const scratch = scratchDir();
        try {
          const { mounts, release } = await resolveRunMounts(mountSpecs, {
            storeRoot: this.req.store.root,
            scratch,
            contextDir: this.req.context.dir,
            contextIgnore: this.req.context.ignore,
            secrets: this.req.secrets ?? {},
            stageRootfs: async (name) => (await this.stageFilesystem(name)).dir,
            namedContext: (name) => this.localContext(name),
            sshSocket: (id, owner) => this.ssh.socketFor(id, owner),
          });
          try {
            // The proxy args join the environment here, out of the step's cache key.
            const withProxies = { ...step, env: [...step.env, ...proxyEnv(this.req.buildArgs, step.env)] };
            return madeNow(await this.runner.run(withProxies, mounts, state, parentKey, (chunk) => {
              pending += chunk.toString('utf8');
              const lines = pending.split('\n');
              pending = lines.pop() ?? '';
              for (const line of lines) progress.log(line);
            }));
          } finally {
            if (pending) progress.log(pending);
            release();
          }
        } finally {
          fs.rmSync(scratch, { recursive: true, force: true });
        }
      },
    });
    progress.done(cached);
    if (layer) state.layers.push(layer);
    (state.config.history ??= []).push(this.history(runHistory(step.args, stageArgs, step.env), layer));
    return key;
  }

  /**
   * --chown: numbers as given; names looked up in the image's /etc/passwd and /etc/group. A user
   * without a group gets the same number as gid, as docker does.
   */
  private async chownOwner(flag: string | string[] | undefined, ctx: StageContext, state: ImageState, parentKey: string): Promise<{ uid: number; gid: number }> {
    if (typeof flag !== 'string') return { uid: 0, gid: 0 };
    const value = ctx.expand(flag);
    const [user = '', group] = value.split(':');
    if (/^\d+$/.test(user) && (group === undefined || /^\d+$/.test(group))) {
      return { uid: Number(user), gid: Number(group ?? user) };
    }
    const resolved = resolveUser((await this.runner.filesystem(state, parentKey)).root, value);
    return group === undefined ? { uid: resolved.uid, gid: resolved.uid } : resolved;
  }
}
