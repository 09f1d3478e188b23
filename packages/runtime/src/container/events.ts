// `tsrunc events`: runc's JSON event stream, one object a line: {"type":"stats","id":...,"data":...}
// every interval and {"type":"oom","id":...} when the kernel OOM-kills in the container.
import { requireCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { statusOf } from './status.js';

export interface EventOptions {
  stats: boolean;
  intervalMs: number;
}

function emit(event: { type: string; id: string; data?: unknown }): void {
  process.stdout.write(JSON.stringify(event) + '\n');
}

export function streamEvents(ctx: RuntimeContext, id: string, options: EventOptions): Promise<number> | number {
  const record = ctx.store.load(id);
  if (statusOf(ctx, record) === 'stopped') throw new Error(`container with id ${id} is not running`);
  const cgroup = requireCgroup(record);
  const statsEvent = () => emit({ type: 'stats', id, data: cgroup.stats() });
  if (options.stats) {
    statsEvent();
    return 0;
  }
  return new Promise((resolve) => {
    const stopOom = cgroup.watchOom(() => emit({ type: 'oom', id }));
    const timer = setInterval(() => {
      if (statusOf(ctx, record) === 'stopped') {
        clearInterval(timer);
        stopOom();
        resolve(0);
        return;
      }
      statsEvent();
    }, options.intervalMs);
  });
}
