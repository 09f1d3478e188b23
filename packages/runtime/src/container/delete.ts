// `tsrunc delete [--force] ID`: a stopped (or never started) container's resources are released
// and its poststop hooks run; a running one only with --force.
import { runHooks } from '../hooks/run.js';
import { waitGone } from '../state/proc.js';
import { stateDocument } from '../state/status.js';
import type { ContainerRecord } from '../state/store.js';
import { reopenCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { statusOf } from './status.js';

const SIGKILL = 9;

export function deleteContainer(ctx: RuntimeContext, id: string, force: boolean): void {
  let lock;
  try {
    lock = ctx.store.lock(id);
  } catch (err) {
    if (force && (err as Error).message === 'container does not exist') return;
    throw err;
  }
  try {
    const record = ctx.store.load(id);
    const status = statusOf(ctx, record);
    if ((status === 'running' || status === 'paused') && !force) {
      throw new Error(`cannot delete container ${id} that is not stopped: ${status}`);
    }
    if (status !== 'stopped') killEverything(record);
    destroy(ctx, record);
  } finally {
    lock.release();
  }
}

function killEverything(record: ContainerRecord): void {
  const cgroup = reopenCgroup(record);
  if (cgroup) {
    cgroup.killAll(SIGKILL);
    if (cgroup.state() === 'frozen') cgroup.thaw(); // frozen processes never act on SIGKILL
  } else {
    process.kill(record.pid, SIGKILL);
  }
  if (!waitGone(record.pid, record.pidStartTime, 10_000)) throw new Error(`container init ${record.pid} did not die`);
}

function destroy(ctx: RuntimeContext, record: ContainerRecord): void {
  reopenCgroup(record)?.destroy();
  try {
    runHooks('poststop', record.config.hooks?.poststop, stateDocument(record, 'stopped'));
  } catch (err) {
    ctx.log.warn((err as Error).message);
  }
  ctx.store.remove(record.id);
}
