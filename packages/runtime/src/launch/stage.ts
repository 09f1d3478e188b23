// Starts the native stage (native/nsexec.c) into a container's namespaces, and speaks its part of
// the sync protocol, up to the pid of the process that becomes the container's: for create it
// then builds the rootfs and applies the process' settings, for exec only the latter, each from
// the plans tsrunc sends (rootfs/native-plan.ts, process/native-plan.ts).
import fs from 'node:fs';
import type { LinuxIDMapping } from '@tsrunc/spec-schemas';
import { socketPair } from '../console/socket.js';
import { Channel } from './channel.js';
import type { NamespacePlan } from './namespaces.js';
import { NSEXEC_BINARY } from './paths.js';
import { spawnWithFds } from './spawn.js';

export interface StageOptions {
  /** The native stage's arguments: ['--create'] or ['--exec']. */
  args: string[];
  namespaces: NamespacePlan;
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
  /** "monotonic S N,boottime S N" */
  timeOffsets?: string;
  /** Passed to the stage as fds 4, 5, ... in this order. */
  extraFds?: number[];
  /** Called with the native stage's pid before it enters any namespace: cgroup placement. */
  beforeNamespaces(pid: number): void;
}

export interface Stage {
  pid: number;
  channel: Channel;
}

/** --preserve-fds N: the caller's fds 3 .. 3+N-1, passed on to the container process. */
export function callerPreservedFds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 3 + i);
}

/** The stage's fd of the sync socket. */
const SYNC_FD = 3;

function stageEnvironment(options: StageOptions): Record<string, string> {
  // Nothing of the caller's environment: the program gets its own from the process plan.
  const env: Record<string, string> = {
    _TSRUNC_SYNC_FD: String(SYNC_FD),
    _TSRUNC_JOIN: options.namespaces.join.map((ns) => `${ns.type}:${ns.path}`).join(','),
    _TSRUNC_CLONE: options.namespaces.cloneFlags.toString(16),
  };
  if (options.timeOffsets) env._TSRUNC_TIMENS = options.timeOffsets;
  return env;
}

function mappingText(mappings: LinuxIDMapping[] = []): string {
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

export async function startStage(options: StageOptions): Promise<Stage> {
  // The sync socket: our end for the channel, the other the stage's fd 3 (closed here once the
  // stage has its copy, so that the channel ends when the stages are done with it).
  const [ours, theirs] = socketPair();
  let spawned;
  try {
    spawned = spawnWithFds(NSEXEC_BINARY, options.args, stageEnvironment(options), [theirs, ...(options.extraFds ?? [])]);
  } catch (err) {
    fs.closeSync(ours);
    throw err;
  } finally {
    fs.closeSync(theirs);
  }
  const channel = new Channel(ours);
  const { pid, failed: spawnError } = spawned;
  if (pid < 0) {
    channel.close();
    return spawnError;
  }

  const fail = (reason: string): never => {
    channel.close();
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    throw new Error(reason);
  };
  try {
    options.beforeNamespaces(pid);
  } catch (err) {
    fail((err as Error).message);
  }
  channel.write('G');
  for (;;) {
    const line = await Promise.race([channel.readLine(), spawnError]);
    if (line === undefined) return fail('the namespace stage exited without starting the container');
    if (line === 'U') {
      fs.writeFileSync(`/proc/${pid}/uid_map`, mappingText(options.uidMappings));
      fs.writeFileSync(`/proc/${pid}/gid_map`, mappingText(options.gidMappings));
      channel.write('M');
    } else if (line.startsWith('P')) {
      return { pid: Number(line.slice(1)), channel };
    } else if (line.startsWith('E')) {
      return fail(line.slice(1));
    } else {
      return fail(`namespace stage: unexpected message ${JSON.stringify(line)}`);
    }
  }
}
