// process.scheduler and process.ioPriority: checked on the host when the plan is made (as runc
// checks them, so that a bad value fails create, not the container's start), applied by the
// process executor with sched_setattr(2) and ioprio_set(2).
import type { IOPriority, Scheduler } from '@tsrunc/spec-schemas';

const POLICIES: Record<string, number> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};
const FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04, SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20, SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};
const IO_CLASSES: Record<IOPriority['class'], number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
const IOPRIO_CLASS_SHIFT = 13;

export interface SchedulerPlan {
  policy: number;
  flags: number;
  nice: number;
  priority: number;
  /** Nanoseconds (SCHED_DEADLINE only); numbers, as the plan is computed before it is encoded. */
  runtime: number;
  deadline: number;
  period: number;
}

export function planScheduler(s: Scheduler): SchedulerPlan {
  const policy = POLICIES[s.policy];
  if (policy === undefined) throw new Error(`process.scheduler.policy "${s.policy}" is not one of ${Object.keys(POLICIES).join(', ')}`);
  const nice = s.nice ?? 0;
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new Error(`process.scheduler.nice ${nice} is not in [-20, 19]`);
  const priority = s.priority ?? 0;
  const realtime = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  if (realtime && (priority < 1 || priority > 99)) throw new Error(`process.scheduler.priority ${priority} is not in [1, 99], as ${s.policy} needs`);
  if (!realtime && priority !== 0) throw new Error(`process.scheduler.priority is only for SCHED_FIFO and SCHED_RR, not ${s.policy}`);
  const times = [s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0];
  if (s.policy !== 'SCHED_DEADLINE' && times.some((t) => t !== 0)) {
    throw new Error(`process.scheduler runtime, deadline and period are only for SCHED_DEADLINE, not ${s.policy}`);
  }
  let flags = 0;
  for (const name of s.flags ?? []) {
    const flag = FLAGS[name];
    if (flag === undefined) throw new Error(`process.scheduler.flags: unknown flag "${name}"`);
    flags |= flag;
  }
  const [runtime, deadline, period] = times as [number, number, number];
  return { policy, flags, nice, priority, runtime, deadline, period };
}

/** The ioprio value: the class in the top bits, the level (0 highest, 7 lowest) below. */
export function planIoPriority(io: IOPriority): number {
  const ioClass = IO_CLASSES[io.class];
  if (ioClass === undefined) throw new Error(`process.ioPriority.class "${String(io.class)}" is not one of ${Object.keys(IO_CLASSES).join(', ')}`);
  if (!Number.isInteger(io.priority) || io.priority < 0 || io.priority > 7) throw new Error(`process.ioPriority.priority ${io.priority} is not in [0, 7]`);
  return (ioClass << IOPRIO_CLASS_SHIFT) | io.priority;
}
