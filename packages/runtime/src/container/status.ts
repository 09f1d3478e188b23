import { containerStatus, type Status } from '../state/status.js';
import type { ContainerRecord } from '../state/store.js';
import { reopenCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';

/** The container's status, asking its cgroup whether it is frozen only when that matters. */
export function statusOf(ctx: RuntimeContext, record: ContainerRecord): Status {
  return containerStatus(ctx.store, record, () => reopenCgroup(record)?.state() === 'frozen');
}
