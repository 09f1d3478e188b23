// `tsrunc run`: create and start, then (unless --detach) wait for the container's process,
// forwarding signals to it, delete it, and exit with its status.
import { becomeSubreaper } from '../sys/reap.js';
import { createContainer, type CreateOptions } from './create.js';
import type { RuntimeContext } from './context.js';
import { deleteContainer } from './delete.js';
import { waitForeground } from './foreground.js';
import { startContainer } from './start.js';

export interface RunOptions extends CreateOptions {
  detach: boolean;
  keep: boolean;
}

export async function runContainer(ctx: RuntimeContext, options: RunOptions): Promise<number> {
  if (!options.detach) becomeSubreaper();
  const record = await createContainer(ctx, options);
  try {
    startContainer(ctx, options.id);
  } catch (err) {
    deleteContainer(ctx, options.id, true);
    throw err;
  }
  if (options.detach) return 0;
  const code = await waitForeground(record.pid);
  if (!options.keep) deleteContainer(ctx, options.id, true);
  return code;
}
