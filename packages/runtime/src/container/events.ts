// A container's events as runc reports them: {"type":"stats","id":...,"data":...} every interval
// (or once) and {"type":"oom","id":...} when the kernel OOM-kills in the container.
import { requireCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { requireStatus } from '../state/status.js';
import { statusOf } from './status.js';

export interface ContainerEvent {
  type: 'stats' | 'oom';
  id: string;
  data?: unknown;
}

export interface EventOptions {
  /** One stats event, then done. */
  stats: boolean;
  intervalMs: number;
}

/** Calls `emit` for each event until the container stops (or once, with `stats`). */
export async function streamEvents(ctx: RuntimeContext, id: string, options: EventOptions, emit: (event: ContainerEvent) => void): Promise<void> {
  const record = ctx.store.load(id);
  requireStatus('events', statusOf(ctx, record), id);
  const cgroup = requireCgroup(record);
  const statsEvent = () => emit({ type: 'stats', id, data: cgroup.stats() });
  if (options.stats) {
    statsEvent();
    return;
  }
  return new Promise((resolve) => {
    const stopOom = cgroup.watchOom(() => emit({ type: 'oom', id }));
    const timer = setInterval(() => {
      if (statusOf(ctx, record) === 'stopped') {
        clearInterval(timer);
        stopOom();
        resolve();
        return;
      }
      statsEvent();
    }, options.intervalMs);
  });
}
