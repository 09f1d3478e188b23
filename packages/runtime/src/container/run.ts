// `tsrunc run`: create and start, then (unless --detach) wait for the container's process,
// forwarding signals to it (and relaying its terminal, when it has one and no --console-socket
// takes it), delete it, and exit with its status.
import os from 'node:os';
import { TerminalRelay } from '../console/relay.js';
import { prctl, PR_SET_PDEATHSIG } from '../sys/process.js';
import { becomeSubreaper } from '../sys/reap.js';
import { createContainer, type CreateOptions } from './create.js';
import type { RuntimeContext } from './context.js';
import { deleteContainer } from './delete.js';
import { waitForeground } from './foreground.js';
import { startContainer } from './start.js';

export interface RunOptions extends Omit<CreateOptions, 'keepConsole'> {
  detach: boolean;
  keep: boolean;
  /** Foreground only: when the process of this pid (tsrunc's parent) dies, SIGKILL the container. */
  killWithParent?: number;
}

/** Not one of the signals a foreground run forwards to the container (container/foreground.ts),
 * and one that both Node and Bun let a process handle (Bun ignores SIGPWR). */
const PARENT_DIED = 'SIGALRM';

/**
 * A builder's RUN step must not outlive the builder, even when it is SIGKILLed: the kernel signals
 * us when our parent dies (PR_SET_PDEATHSIG), and we kill the container, which ends the wait.
 */
function killWithParent(parentPid: number, containerPid: number): void {
  const kill = () => {
    try { process.kill(containerPid, 'SIGKILL'); } catch { /* gone already */ }
  };
  process.on(PARENT_DIED, kill);
  prctl(PR_SET_PDEATHSIG, os.constants.signals[PARENT_DIED], 'PR_SET_PDEATHSIG');
  // A parent that died before the request above signals nothing; it left us to another parent.
  if (process.ppid !== parentPid) kill();
}

export async function runContainer(ctx: RuntimeContext, options: RunOptions): Promise<number> {
  if (!options.detach) becomeSubreaper();
  const { record, consoleMaster } = await createContainer(ctx, { ...options, keepConsole: !options.detach });
  // Relaying before the program starts: it finds its terminal's size and the caller's keys already passed on.
  let relay: TerminalRelay | undefined;
  try {
    if (consoleMaster !== undefined) relay = new TerminalRelay(consoleMaster);
    startContainer(ctx, options.id);
  } catch (err) {
    relay?.finish();
    deleteContainer(ctx, options.id, true);
    throw err;
  }
  if (options.detach) return 0;
  if (options.killWithParent !== undefined) killWithParent(options.killWithParent, record.pid);
  let code: number;
  try {
    code = await waitForeground(record.pid);
  } finally {
    relay?.finish();
  }
  if (!options.keep) deleteContainer(ctx, options.id, true);
  return code;
}
