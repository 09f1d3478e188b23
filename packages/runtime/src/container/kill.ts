// `tsrunc kill [--all] ID [SIGNAL]`
import type { RuntimeContext } from './context.js';
import { parseSignal } from './signals.js';
import { requireStatus } from '../state/status.js';
import { statusOf } from './status.js';

export async function killContainer(ctx: RuntimeContext, id: string, signalText: string, all: boolean): Promise<void> {
  const signal = parseSignal(signalText);
  const record = ctx.store.load(id);
  const status = statusOf(ctx, record);
  // As runc: --all signals whatever is left in a stopped container's cgroup (kill.bats sends
  // signal 0 so after the init died); a plain kill needs the init alive.
  const leftovers = all && status === 'stopped';
  if (!leftovers) requireStatus('kill', status, id);
  if (all) {
    // The cgroup managers only for --all: a plain kill, which containerd sends often, loads no libc.
    const { reopenCgroup } = await import('./cgroup.js');
    const cgroup = reopenCgroup(record);
    if (!cgroup) throw new Error('kill --all: the container has no cgroup to find its processes in');
    if (leftovers && cgroup.pids().length === 0) return;
    cgroup.killAll(signal);
    return;
  }
  process.kill(record.pid, signal);
}
