// `tsrunc exec`: one more process in a running container: every namespace of its init, its
// cgroup, and the security settings of its spec. The native stage joins them all and becomes the
// process itself: nothing of Node, nor of the host, runs inside the container (see native/).
import fs from 'node:fs';
import type { Process, Spec, State } from '@tsrunc/spec-schemas';
import { connectUnixSocket, recvFd, socketPair } from '../console/index.js';
import { hostTerminalSize, TerminalRelay } from '../console/relay.js';
import type { FromContainerProcess } from '../launch/messages.js';
import { planNamespaces, PROC_NS_NAME, type NamespaceType } from '../launch/namespaces.js';
import { callerPreservedFds, startStage } from '../launch/stage.js';
import { encodeProcessPlan, planProcess } from '../process/index.js';
import { becomeSubreaper, waitForExit } from '../sys/reap.js';
import { waitForeground } from './foreground.js';
import { reopenCgroupManager, subCgroupRecord, type CgroupManager, type SubCgroups } from '../cgroups/index.js';
import { reopenCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { writePidFile } from './pid-file.js';
import { answerListener } from './seccomp-agent.js';
import { requireStatus, stateDocument } from '../state/status.js';
import type { ContainerRecord } from '../state/store.js';
import { statusOf } from './status.js';

export interface ExecOptions {
  id: string;
  process: Process;
  consoleSocket?: string;
  detach: boolean;
  pidFile?: string;
  preserveFds: number;
  ignorePaused: boolean;
  /** exec --cgroup: sub-cgroups of the container's to join instead of it. */
  subCgroups?: SubCgroups;
}

/** The container's state as an exec'd process' seccomp agent gets it (runtime-spec's fields only). */
function runningState(record: ContainerRecord): State {
  const { ociVersion, id, status, pid, bundle, annotations } = stateDocument(record, 'running');
  return { ociVersion, id, status, pid, bundle, ...(annotations ? { annotations } : {}) };
}

/** The cgroup the process joins: the container's, or the sub-cgroups of it that --cgroup names. */
function execCgroup(record: ContainerRecord, sub: SubCgroups | undefined): CgroupManager | undefined {
  if (sub === undefined) return reopenCgroup(record);
  if (record.cgroup === undefined) throw new Error(`exec failed: --cgroup: container ${record.id} has no cgroup`);
  try {
    return reopenCgroupManager(subCgroupRecord(record.cgroup, sub));
  } catch (err) {
    throw new Error(`exec failed: ${(err as Error).message}`, { cause: err });
  }
}

export async function execInContainer(ctx: RuntimeContext, options: ExecOptions): Promise<number> {
  const record = ctx.store.load(options.id);
  const status = statusOf(ctx, record);
  if (!(status === 'paused' && options.ignorePaused)) requireStatus('exec', status, options.id);
  const terminal = options.process.terminal === true;
  if (terminal && !options.consoleSocket && options.detach) throw new Error('cannot allocate tty if runc will detach without setting console socket');
  if (!terminal && options.consoleSocket) throw new Error('cannot use console socket if runc will not detach or allocate tty');

  // A foreground terminal without a console socket: the master comes back to us, to relay, as runc does.
  const keepConsole = terminal && !options.consoleSocket;

  const spec: Spec = { ...record.config, process: options.process };
  // The native stage gets the console socket (if any) at fd 4, then the preserved fds.
  const processPlan = planProcess(spec, { preserveFds: options.preserveFds, preservedFdBase: terminal ? 5 : 4 });
  // Every namespace the container has, as its init sees them now; the user namespace first.
  const types = Object.keys(record.namespaces) as NamespaceType[];
  const namespaces = planNamespaces(types.map((type) => ({ type, path: `/proc/${record.pid}/ns/${PROC_NS_NAME[type]}` })));
  // A relayed pty gets the caller's size from the start (runc resizes it after the program started).
  const consoleSize = (keepConsole ? hostTerminalSize() : undefined) ?? options.process.consoleSize;
  const executorPlan = encodeProcessPlan(processPlan, {
    ...(terminal ? { console: { socketFd: 4, ...(consoleSize ? { size: consoleSize } : {}) } } : {}),
  });
  const cgroup = execCgroup(record, options.subCgroups);
  if (!options.detach) becomeSubreaper();
  let masterReceiver: number | undefined;
  let consoleFd: number | undefined;
  if (keepConsole) [masterReceiver, consoleFd] = socketPair();
  else if (options.consoleSocket) consoleFd = connectUnixSocket(options.consoleSocket);
  try {
    ctx.log.debug?.(`=> nsexec container setup: joining the namespaces of init ${record.pid}`);
    const stage = await startStage({
      args: ['--exec'],
      namespaces,
      extraFds: [...(consoleFd !== undefined ? [consoleFd] : []), ...callerPreservedFds(options.preserveFds)],
      beforeNamespaces: (pid) => cgroup?.addProcess(pid),
    }).catch((err: unknown) => { throw new Error(`exec failed: ${(err as Error).message}`, { cause: err }); });
    // The stage has its copy: with ours closed, a stage that dies before sending the master
    // leaves the receiver at end of file rather than waiting.
    if (consoleFd !== undefined) fs.closeSync(consoleFd);
    consoleFd = undefined;
    ctx.log.debug?.(`child process in init(): pid ${stage.pid}, sending it the process plan`);
    stage.channel.write(executorPlan);
    ctx.log.debug?.(`setns_init: about to exec ${options.process.args?.[0] ?? ''}`);
    // The executor sends the master first of all (or dies): the relay starts while it applies the
    // rest of the plan, so that the program mostly finds its size passed on (runc races the same way).
    let relay: TerminalRelay | undefined;
    let relayFailure: unknown;
    try {
      if (masterReceiver !== undefined) relay = new TerminalRelay(recvFd(masterReceiver).fd);
    } catch (err) {
      relayFailure = err;
    }
    const abandon = async (): Promise<void> => {
      try { process.kill(stage.pid, 'SIGKILL'); } catch { /* gone already */ }
      await waitForExit(stage.pid).catch(() => 0);
    };
    try {
      // Nothing comes back when the program was exec'd: the socket closes (close-on-exec).
      let message = await stage.channel.readMessage<FromContainerProcess>();
      try {
        for (; message?.type === 'seccompListener'; message = await stage.channel.readMessage<FromContainerProcess>()) {
          answerListener(stage.channel, processPlan.seccomp, stage.pid, message.fd, runningState(record));
        }
      } catch (err) {
        stage.channel.close();
        await abandon();
        throw new Error(`exec failed: ${(err as Error).message}`);
      }
      stage.channel.close();
      if (message?.type === 'error') {
        await waitForExit(stage.pid).catch(() => 0);
        throw new Error(`exec failed: ${message.message}`);
      }
      if (relayFailure !== undefined) {
        // A terminal nobody relays is of no use to the program: it goes, as runc's exec fails.
        await abandon();
        throw relayFailure;
      }
      if (options.pidFile) writePidFile(options.pidFile, stage.pid);
      return options.detach ? 0 : await waitForeground(stage.pid);
    } finally {
      relay?.finish();
    }
  } finally {
    if (consoleFd !== undefined) fs.closeSync(consoleFd);
    if (masterReceiver !== undefined) fs.closeSync(masterReceiver);
  }
}
