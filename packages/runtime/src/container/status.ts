import { recordFreezeState } from '../cgroups/freeze.js';
import { containerStatus, type Status } from '../state/status.js';
import type { ContainerRecord } from '../state/store.js';
import type { RuntimeContext } from './context.js';

/**
 * The container's status, asking its cgroup whether it is frozen only when that matters, and
 * from the freezer files alone: `state` is called often and need not load the cgroup managers.
 */
export function statusOf(ctx: RuntimeContext, record: ContainerRecord): Status {
  return containerStatus(ctx.store, record, () => record.cgroup !== undefined && recordFreezeState(record.cgroup) === 'frozen');
}
