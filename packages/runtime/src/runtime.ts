// The runtime as a library: a Runtime over one state root creates, loads and lists containers; a
// Container is started, signalled, paused, updated, exec'd into and deleted. The CLI, the tests and
// anyone embedding tsrunc drive it through this API alone. Each operation loads its implementation
// when it runs, so that a caller pays only for what it uses (state needs no libc bindings).
import type { Features, LinuxResources, Process, Spec } from '@tsrunc/spec-schemas';
import type { RuntimeContext, RuntimeLog } from './container/context.js';
import type { CheckpointOptions } from './container/checkpoint.js';
import type { ContainerEvent, EventOptions } from './container/events.js';
import type { RestoreOptions as RestoreSettings } from './container/restore.js';
import { containerState, listContainers } from './container/list.js';
import type { SubCgroups } from './cgroups/sub-cgroup.js';
import type { RuncState } from './state/status.js';
import { StateStore } from './state/store.js';

/** `tsrunc state`: the runtime-spec state plus runc's extra fields. */
export type ContainerState = RuncState;
export type { CheckpointOptions, ContainerEvent, EventOptions, RuntimeLog };

export interface RuntimeOptions {
  /** The state root (runc's --root); /run/tsrunc by default. */
  root?: string;
  /** runc's --systemd-cgroup; not supported yet (create says so). */
  systemdCgroup?: boolean;
  /** Warnings that do not fail an operation; stderr by default. */
  log?: RuntimeLog;
  /** The criu binary for checkpoint and restore (runc's --criu); "criu" on PATH by default. */
  criu?: string;
}

/** How `restore` remakes a container: its bundle and criu's images, with runc's restore flags. */
export type RestoreOptions = Partial<Omit<RestoreSettings, 'bundle' | 'imagePath'>> & Pick<RestoreSettings, 'bundle' | 'imagePath'>;

export interface CreateOptions {
  /** The bundle directory, holding config.json. */
  bundle: string;
  /**
   * A listening unix socket that receives the pty master, for a process with terminal: true.
   * Without it, a foreground run relays the pty to this process' stdio, as runc does.
   */
  consoleSocket?: string;
  pidFile?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** This process' fds 3 .. 3+N-1 are passed on to the container's process. */
  preserveFds?: number;
}

export interface RunOptions extends CreateOptions {
  /** Return once started, instead of waiting for the process and deleting the container. */
  detach?: boolean;
  /** Wait, but keep the stopped container. */
  keep?: boolean;
  /** While waiting: when the process of this pid (the caller) dies, the container is killed. */
  killWithParent?: number;
}

export interface ExecOptions {
  process: Process;
  /** As for create; without it, a foreground exec with a terminal relays the pty to this process' stdio. */
  consoleSocket?: string;
  /** Return once the process runs, instead of waiting for it. */
  detach?: boolean;
  pidFile?: string;
  preserveFds?: number;
  ignorePaused?: boolean;
  /** Sub-cgroups of the container's to join instead of it (exec --cgroup, parsed by parseSubCgroupArgs). */
  subCgroups?: SubCgroups;
}

const stderrLog: RuntimeLog = { warn: (message) => process.stderr.write(`tsrunc: warning: ${message}\n`) };

export class Runtime {
  private readonly ctx: RuntimeContext;

  constructor(options: RuntimeOptions = {}) {
    this.ctx = {
      store: new StateStore(options.root ?? '/run/tsrunc'),
      log: options.log ?? stderrLog,
      systemdCgroup: options.systemdCgroup === true,
      ...(options.criu !== undefined ? { criuPath: options.criu } : {}),
    };
  }

  /** A container whose init waits for `start`; every setup failure surfaces here. */
  async create(id: string, options: CreateOptions): Promise<Container> {
    const { createContainer } = await import('./container/create.js');
    await createContainer(this.ctx, { id, ...createDefaults(options) });
    return new Container(this.ctx, id);
  }

  /** create, start and, unless detached, wait: the process' exit code (0 when detached). */
  async run(id: string, options: RunOptions): Promise<number> {
    const { runContainer } = await import('./container/run.js');
    return runContainer(this.ctx, {
      id,
      ...createDefaults(options),
      detach: options.detach === true,
      keep: options.keep === true,
      ...(options.killWithParent !== undefined ? { killWithParent: options.killWithParent } : {}),
    });
  }

  /**
   * A container made again from a checkpoint (criu's images) and its bundle: the init's exit
   * code once it exits (the container is then deleted), or 0 at once with `detach`.
   */
  async restore(id: string, options: RestoreOptions): Promise<number> {
    const { restoreContainer } = await import('./container/restore.js');
    return restoreContainer(this.ctx, id, { ...options, detach: options.detach === true, noPivot: options.noPivot === true, noSubreaper: options.noSubreaper === true });
  }

  /** A container that exists under the root; ContainerNotFoundError if none. */
  load(id: string): Container {
    const container = this.container(id);
    container.state();
    return container;
  }

  /** A handle on `id`, whether or not it exists (delete --force of a missing one succeeds). */
  container(id: string): Container {
    return new Container(this.ctx, id);
  }

  list(): ContainerState[] {
    return listContainers(this.ctx);
  }
}

export class Container {
  constructor(private readonly ctx: RuntimeContext, readonly id: string) {}

  state(): ContainerState {
    return containerState(this.ctx, this.id);
  }

  /** The config.json it was created from, with the resources of later updates. */
  config(): Spec {
    return this.ctx.store.load(this.id).config;
  }

  async start(): Promise<void> {
    const { startContainer } = await import('./container/start.js');
    startContainer(this.ctx, this.id);
  }

  /** `signal`: a name (TERM, SIGTERM) or a number; `all`: every process in the container's cgroup. */
  async kill(signal: string, options: { all?: boolean } = {}): Promise<void> {
    const { killContainer } = await import('./container/kill.js');
    await killContainer(this.ctx, this.id, signal, options.all === true);
  }

  async pause(): Promise<void> {
    const { pauseContainer } = await import('./container/manage.js');
    pauseContainer(this.ctx, this.id);
  }

  async resume(): Promise<void> {
    const { resumeContainer } = await import('./container/manage.js');
    resumeContainer(this.ctx, this.id);
  }

  /**
   * criu dumps the container into options.imagePath. Without leaveRunning or preDump its
   * processes are gone afterwards: the container is stopped, for `restore` to bring back.
   */
  async checkpoint(options: CheckpointOptions): Promise<void> {
    const { checkpointContainer } = await import('./container/checkpoint.js');
    await checkpointContainer(this.ctx, this.id, options);
  }

  async update(resources: LinuxResources): Promise<void> {
    const { updateContainer } = await import('./container/manage.js');
    updateContainer(this.ctx, this.id, resources);
  }

  /** The host pids of every process in the container. */
  async pids(): Promise<number[]> {
    const { containerPids } = await import('./container/manage.js');
    return containerPids(this.ctx, this.id);
  }

  /** One more process in the container: its exit code, or 0 once it runs with `detach`. */
  async exec(options: ExecOptions): Promise<number> {
    const { execInContainer } = await import('./container/exec.js');
    return execInContainer(this.ctx, {
      id: this.id,
      process: options.process,
      consoleSocket: options.consoleSocket,
      detach: options.detach === true,
      pidFile: options.pidFile,
      preserveFds: options.preserveFds ?? 0,
      ignorePaused: options.ignorePaused === true,
      ...(options.subCgroups !== undefined ? { subCgroups: options.subCgroups } : {}),
    });
  }

  async events(options: EventOptions, emit: (event: ContainerEvent) => void): Promise<void> {
    const { streamEvents } = await import('./container/events.js');
    return streamEvents(this.ctx, this.id, options, emit);
  }

  /** Releases everything the container holds; a running one only with `force` (which kills it). */
  async delete(options: { force?: boolean } = {}): Promise<void> {
    const { deleteContainer } = await import('./container/delete.js');
    deleteContainer(this.ctx, this.id, options.force === true);
  }
}

/** What this tsrunc and this host support, as `tsrunc features` prints it. */
export async function features(): Promise<Features> {
  // Loaded on use: it probes the host's cgroups and libseccomp, which nothing else needs.
  const { runtimeFeatures } = await import('./container/features.js');
  return runtimeFeatures();
}

function createDefaults(options: CreateOptions) {
  return {
    bundle: options.bundle,
    consoleSocket: options.consoleSocket,
    pidFile: options.pidFile,
    noPivot: options.noPivot === true,
    noNewKeyring: options.noNewKeyring === true,
    preserveFds: options.preserveFds ?? 0,
  };
}
