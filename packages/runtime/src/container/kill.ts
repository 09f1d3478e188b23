// `tsrunc kill [--all] ID [SIGNAL]`
import type { RuntimeContext } from './context.js';
import { parseSignal } from './signals.js';
import { requireStatus } from '../state/status.js';
import { statusOf } from './status.js';

export async function killContainer(ctx: RuntimeContext, id: string, signalText: string, all: boolean): Promise<void> {
  const signal = parseSignal(signalText);
  const record = ctx.store.load(id);
  requireStatus('kill', statusOf(ctx, record), id);
  if (all) {
    // The cgroup managers only for --all: a plain kill, which containerd sends often, loads no libc.
    const { reopenCgroup } = await import('./cgroup.js');
    const cgroup = reopenCgroup(record);
    if (!cgroup) throw new Error('kill --all: the container has no cgroup to find its processes in');
    cgroup.killAll(signal);
    return;
  }
  process.kill(record.pid, signal);
}
