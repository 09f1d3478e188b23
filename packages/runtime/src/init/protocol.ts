// Messages between tsrunc (parent) and its init or exec stage, after the native stage's part.
import type { Hook, State } from '@tsrunc/spec-schemas';
import type { RootfsPlan } from '../rootfs/plan.js';
import type { ProcessPlan } from '../process/plan.js';

/** What the init stage does, decided entirely by the parent from config.json. */
export interface InitPlan {
  rootfs: RootfsPlan;
  process: ProcessPlan;
  /** fd (inherited, O_PATH) of the exec fifo; `tsrunc start` reads from it to release the init. */
  fifoFd: number;
  /** fd (inherited) of the connected --console-socket, when process.terminal is set. */
  consoleSocketFd?: number;
  consoleSize?: { height: number; width: number };
  /** Name of a new session keyring for the container, so that it does not share the host's keys. */
  sessionKeyring?: string;
  createContainerHooks: Hook[];
  startContainerHooks: Hook[];
  /** The state given to hooks, with the init's pid as the parent sees it. */
  state: State;
}

/** What the exec stage does: join the container and run one more process in it. */
export interface ExecPlan {
  process: ProcessPlan;
  /** fd (inherited) of the container's mount namespace, joined after everything is loaded. */
  mountNamespaceFd: number;
  consoleSocketFd?: number;
  consoleSize?: { height: number; width: number };
}

export type ToStage = { type: 'plan'; plan: InitPlan | ExecPlan } | { type: 'continue' };

export type FromStage =
  | { type: 'prePivot' }
  | { type: 'ready' }
  | { type: 'error'; message: string };
