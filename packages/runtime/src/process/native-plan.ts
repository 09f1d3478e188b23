// A ProcessPlan as the native process executor (native/process.c) reads it, in the record format
// of launch/plan-records.ts. The executor only applies what it is given, in its fixed order.
import type { Hook, State } from '@tsrunc/spec-schemas';
import { PlanWriter, type ConsoleRecord } from '../launch/plan-records.js';
import type { ProcessPlan } from './plan.js';
import { compileSeccompFilter } from './seccomp.js';

/** Record tags; keep in step with `enum tag` in native/process.c. */
const RECORD = {
  arg: 1, env: 2, cwd: 3, user: 4, groups: 5, umask: 6, rlimit: 7, capabilities: 8, noNewPrivileges: 9,
  oomScoreAdj: 10, scheduler: 11, ioPriority: 12, personality: 13, seccomp: 14, apparmor: 15, selinux: 16,
  console: 17, preserveFds: 18, execFifo: 19, startContainerHook: 20, memoryPolicy: 21,
} as const;

/** What the executor does besides the process' own settings. */
export interface ExecutorExtras {
  /** exec -t: the executor's fd of the console socket, to which it sends the pty it makes. */
  console?: ConsoleRecord;
  /** create: the executor's fd of the exec fifo; it reports ready, then waits for `tsrunc start`. */
  execFifoFd?: number;
  /** create: run after `start`, inside the container, with the state on stdin. */
  startContainerHooks?: { hooks: Hook[]; state: State };
}

function capabilityMask(caps: number[]): bigint {
  return caps.reduce((mask, cap) => mask | (1n << BigInt(cap)), 0n);
}

export function encodeProcessPlan(plan: ProcessPlan, extras: ExecutorExtras = {}): Buffer {
  const w = new PlanWriter();
  for (const arg of plan.args) w.text(RECORD.arg, arg);
  for (const entry of plan.env) w.text(RECORD.env, entry);
  w.text(RECORD.cwd, plan.cwd);
  w.u32s(RECORD.user, plan.uid, plan.gid);
  w.u32s(RECORD.groups, ...plan.additionalGids);
  w.u32s(RECORD.umask, plan.umask);
  for (const r of plan.rlimits) {
    const value = Buffer.alloc(20);
    value.writeUInt32LE(r.resource, 0);
    value.writeBigUInt64LE(BigInt.asUintN(64, BigInt(r.soft)), 4);
    value.writeBigUInt64LE(BigInt.asUintN(64, BigInt(r.hard)), 12);
    w.record(RECORD.rlimit, value);
  }
  if (plan.capabilities) {
    const c = plan.capabilities;
    const value = Buffer.alloc(44);
    [c.bounding, c.effective, c.permitted, c.inheritable, c.ambient].forEach((set, i) => value.writeBigUInt64LE(capabilityMask(set), 8 * i));
    value.writeUInt32LE(c.lastCap, 40);
    w.record(RECORD.capabilities, value);
  }
  if (plan.noNewPrivileges) w.record(RECORD.noNewPrivileges);
  if (plan.oomScoreAdj !== undefined) w.text(RECORD.oomScoreAdj, String(plan.oomScoreAdj));
  if (plan.scheduler) {
    // struct sched_attr as of its first version (48 bytes), which every kernel with the call takes.
    const s = plan.scheduler;
    const attr = Buffer.alloc(48);
    attr.writeUInt32LE(attr.length, 0);
    attr.writeUInt32LE(s.policy, 4);
    attr.writeBigUInt64LE(BigInt(s.flags), 8);
    attr.writeInt32LE(s.nice, 16);
    attr.writeUInt32LE(s.priority, 20);
    attr.writeBigUInt64LE(BigInt(s.runtime), 24);
    attr.writeBigUInt64LE(BigInt(s.deadline), 32);
    attr.writeBigUInt64LE(BigInt(s.period), 40);
    w.record(RECORD.scheduler, attr);
  }
  if (plan.ioPriority !== undefined) w.u32s(RECORD.ioPriority, plan.ioPriority);
  if (plan.personality !== undefined) w.u32s(RECORD.personality, plan.personality);
  if (plan.memoryPolicy) {
    // [u32 mode | flags][u64 mask words, lowest nodes first]
    const { mode, nodeMask } = plan.memoryPolicy;
    const value = Buffer.alloc(4 + 8 * nodeMask.length);
    value.writeUInt32LE(mode, 0);
    nodeMask.forEach((word, i) => value.writeBigUInt64LE(word, 4 + 8 * i));
    w.record(RECORD.memoryPolicy, value);
  }
  if (plan.seccomp) {
    const program = compileSeccompFilter(plan.seccomp);
    const flags = Buffer.alloc(4);
    flags.writeUInt32LE(program.flags, 0);
    w.record(RECORD.seccomp, Buffer.concat([flags, program.bpf]));
  }
  if (plan.apparmorProfile) w.text(RECORD.apparmor, plan.apparmorProfile);
  if (plan.selinuxLabel) w.text(RECORD.selinux, plan.selinuxLabel);
  if (extras.console) w.console(RECORD.console, extras.console);
  w.u32s(RECORD.preserveFds, plan.preserveFds, plan.preservedFdBase);
  if (extras.execFifoFd !== undefined) w.u32s(RECORD.execFifo, extras.execFifoFd);
  const start = extras.startContainerHooks;
  if (start) for (const hook of start.hooks) w.hook(RECORD.startContainerHook, hook, start.state);
  return w.finish();
}
