// `tsrunc delete [--force] ID`: a stopped (or never started) container's resources are released
// and its poststop hooks run; a running one only with --force. A create that was killed left a
// record naming what it made; delete removes all of it, as it removes a stopped container.
import { runHooksWarning } from '../hooks/run.js';
import { stateDocument } from '../state/status.js';
import { ContainerNotFoundError } from '../state/errors.js';
import type { ContainerRecord } from '../state/store.js';
import { reopenCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { requireStatus } from '../state/status.js';
import { statusOf } from './status.js';
import { killProcesses, unmountContainerMounts } from './teardown.js';

export function deleteContainer(ctx: RuntimeContext, id: string, force: boolean): void {
  // With --force, a container that is not there (never was, or a concurrent delete removed it
  // while this one waited for the lock) is already deleted, as runc says; so are the leftovers
  // of a create killed before it could claim the ID.
  const absent = (err: unknown): boolean => {
    if (!force || !(err instanceof ContainerNotFoundError)) return false;
    ctx.store.removeLeftovers(id);
    return true;
  };
  let lock;
  try {
    lock = ctx.store.lock(id);
  } catch (err) {
    if (absent(err)) return;
    throw err;
  }
  try {
    let record: ContainerRecord;
    try {
      record = ctx.store.loadAny(id);
    } catch (err) {
      if (absent(err)) return;
      throw err;
    }
    const status = statusOf(ctx, record);
    if (!force) requireStatus('delete', status, id);
    // A killed create's init may live on (waiting on its fifo) although the container is "stopped".
    if (status !== 'stopped' || record.creating) {
      killProcesses(reopenCgroup(record), record.pid > 0 ? { pid: record.pid, startTime: record.pidStartTime } : undefined);
    }
    destroy(ctx, record);
  } finally {
    lock.release();
  }
}

function destroy(ctx: RuntimeContext, record: ContainerRecord): void {
  ctx.log.debug?.(`delete: removing the cgroup and state of ${record.id}`);
  unmountContainerMounts(record);
  reopenCgroup(record)?.destroy();
  // Poststop hooks are for containers that were created; a failed create runs none either.
  if (!record.creating) {
    runHooksWarning('poststop', record.config.hooks?.poststop, stateDocument(record, 'stopped'), (m) => ctx.log.warn(m));
  }
  ctx.store.remove(record.id);
}
