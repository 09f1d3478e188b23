// pause, resume, update and the process list of a created or running container: through its
// cgroup, as the status table allows.
import type { LinuxResources } from '@tsrunc/spec-schemas';
import { requireStatus } from '../state/status.js';
import { requireCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { statusOf } from './status.js';

export function pauseContainer(ctx: RuntimeContext, id: string): void {
  const record = ctx.store.load(id);
  requireStatus('pause', statusOf(ctx, record), id);
  requireCgroup(record).freeze();
}

export function resumeContainer(ctx: RuntimeContext, id: string): void {
  const record = ctx.store.load(id);
  requireStatus('resume', statusOf(ctx, record), id);
  requireCgroup(record).thaw();
}

/** The pids of every process in the container's cgroup, as the host sees them. */
export function containerPids(ctx: RuntimeContext, id: string): number[] {
  return requireCgroup(ctx.store.load(id)).pids();
}

/** Applies `resources` to the cgroup and keeps them in the record, as the container's own now. */
export function updateContainer(ctx: RuntimeContext, id: string, resources: LinuxResources): void {
  const lock = ctx.store.lock(id);
  try {
    const record = ctx.store.load(id);
    requireStatus('update', statusOf(ctx, record), id);
    requireCgroup(record).set(resources);
    record.config.linux = { ...record.config.linux, resources: { ...record.config.linux?.resources, ...resources } };
    ctx.store.save(record);
  } finally {
    lock.release();
  }
}
