// Messages between tsrunc (parent) and its init stage, after the native stage's part; `ready` and
// a late `error` come from the process executor the init stage hands over to.
import type { Hook, State } from '@tsrunc/spec-schemas';
import type { RootfsPlan } from '../rootfs/plan.js';

/** What the init stage does, decided entirely by the parent from config.json. */
export interface InitPlan {
  rootfs: RootfsPlan;
  /** The process executor's plan (process/native-plan.ts), base64: the process' settings, the
   * exec fifo it waits on after `ready`, and the startContainer hooks it runs after `start`. */
  executorPlan: string;
  /** How many fds from 3 on the init stage inherited: the sync socket, the exec fifo, the console
   * socket (if any), the preserved fds. */
  inheritedFds: number;
  /** fd (inherited) of the connected --console-socket, when process.terminal is set. */
  consoleSocketFd?: number;
  consoleSize?: { height: number; width: number };
  /** Name of a new session keyring for the container, so that it does not share the host's keys. */
  sessionKeyring?: string;
  /** Indexes of rootfs.mounts whose sources come as fds (container/mount-sources.ts), in the order sent. */
  mountSources: number[];
  createContainerHooks: Hook[];
  /** The state given to hooks, with the init's pid as the parent sees it. */
  state: State;
}

export type ToStage = { type: 'plan'; plan: InitPlan } | { type: 'continue' };

export type FromStage =
  | { type: 'prePivot' }
  /** The plan is read: tsrunc sends the mount sources' fds now (init/mount-sources.ts). */
  | { type: 'mountSources' }
  | { type: 'ready' }
  /** The process executor's fd of its seccomp filter's listener (SCMP_ACT_NOTIFY); it waits for 'L'. */
  | { type: 'seccompListener'; fd: number }
  | { type: 'error'; message: string };
