// `tsrunc create`: from a bundle to an init process waiting on its exec fifo, inside its
// namespaces and cgroup, with the state recorded for the calls that follow.
import fs from 'node:fs';
import type { Spec, State } from '@tsrunc/spec-schemas';
import { loadBundle } from '../config/load.js';
import { connectUnixSocket, recvFd, socketPair } from '../console/index.js';
import { runHooks } from '../hooks/run.js';
import type { FromContainerProcess } from '../launch/messages.js';
import { checkNamespaceRules, planNamespaces, PROC_NS_NAME } from '../launch/namespaces.js';
import { callerPreservedFds, startStage } from '../launch/stage.js';
import { encodeProcessPlan, planProcess } from '../process/index.js';
import { mountIdAt } from '../rootfs/host-mounts.js';
import { cgroupView, encodeRootfsPlan, planRootfs } from '../rootfs/index.js';
import { procStat, type ProcessId } from '../state/proc.js';
import { OCI_VERSION } from '../state/status.js';
import { newContainerRecord, type ContainerRecord } from '../state/store.js';
import { mkfifo } from '../sys/fifo.js';
import { O } from '../sys/openat2.js';
import { checkExistingCgroup } from '../cgroups/index.js';
import { openContainerCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { answerListener } from './seccomp-agent.js';
import { mountSourceIndexes, openMountSources, sendMountSources } from './mount-sources.js';
import { moveNetDevices, planNetDevices } from './net-devices.js';
import { killProcesses, unmountContainerMounts } from './teardown.js';
import { UndoStack } from './undo.js';
import { writePidFile } from './pid-file.js';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  /** --no-new-keyring: keep the caller's session keyring instead of a new one named after the container. */
  noNewKeyring?: boolean;
  preserveFds: number;
  /**
   * A foreground run: with process.terminal and no consoleSocket, the pty master comes back to
   * the caller (as runc receives it over a console socket of its own), to relay.
   */
  keepConsole?: boolean;
}

export interface Created {
  record: ContainerRecord;
  /** The pty master, when keepConsole asked for it; the caller closes it. */
  consoleMaster?: number;
}

function timeOffsets(config: Spec): string | undefined {
  const offsets = config.linux?.timeOffsets;
  if (!offsets) return undefined;
  return Object.entries(offsets)
    .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}`)
    .join(',');
}

/** Whether the runtime receives the pty master itself (keepConsole), as a foreground run does. */
function checkTerminalFlags(config: Spec, options: CreateOptions): boolean {
  const terminal = config.process?.terminal === true;
  if (terminal && !options.consoleSocket && !options.keepConsole) throw new Error('cannot allocate tty if runc will detach without setting console socket');
  if (!terminal && options.consoleSocket) throw new Error('cannot use console socket if runc will not detach or allocate tty');
  return terminal && !options.consoleSocket;
}

export async function createContainer(ctx: RuntimeContext, options: CreateOptions): Promise<Created> {
  const { store } = ctx;
  store.dir(options.id); // validates the ID before anything else
  const bundle = loadBundle(options.bundle);
  const { config } = bundle;
  const keepConsole = checkTerminalFlags(config, options);
  const hasConsole = options.consoleSocket !== undefined || keepConsole;
  const namespaces = planNamespaces(config.linux?.namespaces);
  checkNamespaceRules(namespaces, config.linux);
  const netDevices = planNetDevices(config.linux, namespaces);
  // Plans are pure: any error in config.json surfaces here, before the host is touched.
  const rootfsPlan = planRootfs(config, { bundle: bundle.dir, rootfs: bundle.rootfs, noPivot: options.noPivot });
  // The container's process gets the exec fifo at fd 4, the console socket (if any) at 5, then the preserved fds.
  const processPlan = planProcess(config, { preserveFds: options.preserveFds, preservedFdBase: hasConsole ? 6 : 5 });

  const cgroup = openContainerCgroup(ctx, options.id, config);
  checkExistingCgroup(cgroup, (message) => ctx.log.warn(message));

  // Each step below registers its undo before it acts, and the record on disk names everything
  // a step may have made before the step begins: a create killed at any point leaves nothing
  // that `delete --force` cannot find and remove.
  const record: ContainerRecord = {
    ...newContainerRecord(options.id, bundle, config, cgroup.toJSON()),
    ...(rootfsPlan.hostMountNamespace ? { hostMountBase: mountIdAt(bundle.rootfs) } : {}),
  };
  // The claim is atomic (the state dir appears with the record, or not at all): its undo follows it.
  const lock = store.claim(record);
  const undo = new UndoStack();
  /** Our copies of the fds the init inherits or is sent, closed whatever happens. */
  const passedFds: number[] = [];
  /** Releases the container's network namespace, held while network devices may need moving back. */
  let releaseNetDevices: (() => void) | undefined;
  undo.push('remove state dir', () => store.remove(options.id));
  try {
    undo.push('remove cgroup', () => cgroup.destroy());
    cgroup.create();
    undo.push('unmount the rootfs from the host', () => unmountContainerMounts(record));
    mkfifo(store.fifoPath(options.id), 0o622);
    // Opened here and inherited: the init may run as a user that cannot reach the state dir.
    const fifoFd = fs.openSync(store.fifoPath(options.id), O.PATH | O.CLOEXEC);
    passedFds.push(fifoFd);
    /** Our end of the console socket pair, when the master comes back to us. */
    let masterReceiver: number | undefined;
    let consoleFd: number | undefined;
    if (keepConsole) {
      [masterReceiver, consoleFd] = socketPair();
      passedFds.push(masterReceiver);
    } else if (options.consoleSocket) {
      consoleFd = connectUnixSocket(options.consoleSocket);
    }
    if (consoleFd !== undefined) passedFds.push(consoleFd);

    // Every process of the container starts in its cgroup, so the kill finds them before the
    // init's pid is known; once it is, the init itself is waited for.
    let init: ProcessId | undefined;
    undo.push('kill container processes', () => killProcesses(cgroup, init));
    ctx.log.debug?.(`=> nsexec container setup: new namespaces 0x${namespaces.cloneFlags.toString(16)}, joining ${namespaces.join.map((j) => j.type).join(',') || 'none'}`);
    const stage = await startStage({
      args: ['--create'],
      namespaces,
      uidMappings: config.linux?.uidMappings,
      gidMappings: config.linux?.gidMappings,
      timeOffsets: timeOffsets(config),
      extraFds: [fifoFd, ...(consoleFd !== undefined ? [consoleFd] : []), ...callerPreservedFds(options.preserveFds)],
      beforeNamespaces: (pid) => cgroup.addProcess(pid),
    });
    init = { pid: stage.pid, startTime: procStat(stage.pid)?.startTime ?? '' };
    record.pid = init.pid;
    record.pidStartTime = init.startTime;
    store.save(record);
    // Before the plan is sent: the hooks and the program find the devices in place.
    if (netDevices.length > 0) releaseNetDevices = moveNetDevices(netDevices, stage.pid, undo);
    // In a user namespace the init cannot reach every source by name: it gets them as fds.
    const mountSources = mountSourceIndexes(rootfsPlan, namespaces.all.has('user'));
    const sourceFds = openMountSources(init, rootfsPlan, mountSources);
    passedFds.push(...sourceFds);
    const state: State = {
      ociVersion: OCI_VERSION,
      id: options.id,
      status: 'creating',
      pid: stage.pid,
      bundle: bundle.dir,
      ...(config.annotations ? { annotations: config.annotations } : {}),
    };
    const executorPlan = encodeProcessPlan(processPlan, {
      execFifoFd: 4,
      startContainerHooks: { hooks: config.hooks?.startContainer ?? [], state: { ...state, status: 'created' } },
    });
    const rootfs = encodeRootfsPlan(rootfsPlan, {
      ...(options.noNewKeyring ? {} : { sessionKeyring: options.id }),
      mountSources,
      createContainerHooks: config.hooks?.createContainer ?? [],
      state,
      ...(consoleFd !== undefined ? { console: { socketFd: 5, ...(config.process?.consoleSize ? { size: config.process.consoleSize } : {}) } } : {}),
      ...(rootfsPlan.mounts.some((m) => m.type === 'cgroup' || m.type === 'cgroup2') ? { cgroups: cgroupView(stage.pid) } : {}),
    });
    ctx.log.debug?.(`child process in init(): pid ${stage.pid}, sending it the rootfs and process plans`);
    stage.channel.write(Buffer.concat([rootfs, executorPlan]));
    for (;;) {
      const message = await stage.channel.readMessage<FromContainerProcess>();
      if (message === undefined) throw new Error('container init exited before the container was created');
      if (message.type === 'error') throw new Error(message.message);
      if (message.type === 'ready') {
        ctx.log.debug?.('init: closing the pipe to signal completion (set up; the init waits on the exec fifo)');
        break;
      }
      if (message.type === 'mountSources') {
        sendMountSources(stage.channel.socket, sourceFds, mountSources);
        continue;
      }
      if (message.type === 'seccompListener') {
        answerListener(stage.channel, processPlan.seccomp, stage.pid, message.fd, state);
        continue;
      }
      // prePivot: the namespaces exist and the mounts are made; hooks of the runtime namespace run now.
      ctx.log.debug?.('init: mounts made, running the prestart and createRuntime hooks before pivot_root');
      runHooks('prestart', config.hooks?.prestart, state);
      runHooks('createRuntime', config.hooks?.createRuntime, state);
      stage.channel.write('C');
    }
    stage.channel.close();

    record.created = new Date().toISOString();
    record.namespaces = Object.fromEntries(
      [...namespaces.all].map((type) => [type, `/proc/${stage.pid}/ns/${PROC_NS_NAME[type]}`]),
    );
    delete record.creating;
    store.save(record);
    if (options.pidFile) writePidFile(options.pidFile, stage.pid);
    // The init sent the master before it reported ready: it is waiting in the socket.
    const consoleMaster = masterReceiver !== undefined ? recvFd(masterReceiver).fd : undefined;
    return { record, ...(consoleMaster !== undefined ? { consoleMaster } : {}) };
  } catch (err) {
    const failure = undo.unwind();
    if (failure !== undefined) ctx.log.warn(`cleanup after failed create: ${failure}; delete --force ${options.id} retries it`);
    throw err;
  } finally {
    releaseNetDevices?.();
    for (const fd of passedFds) fs.closeSync(fd);
    lock.release();
  }
}
