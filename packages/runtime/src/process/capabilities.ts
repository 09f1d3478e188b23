// Capability names <-> numbers, and the five sets applied to the exec'ing thread.
import fs from 'node:fs';
import { libc, check } from '../sys/libc.js';
import { CAPABILITIES } from './capability-names.js';

export interface CapabilityPlan {
  bounding: number[];
  effective: number[];
  permitted: number[];
  inheritable: number[];
  ambient: number[];
  /** The highest capability this kernel knows, read on the host (the container may not mount /proc). */
  lastCap: number;
}

export function hostLastCap(): number {
  return Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
}

/** Names to numbers; capabilities newer than the kernel are left out, as runc does. */
export function capabilityNumbers(names: string[] = [], lastCap: number, set: string): number[] {
  return names.flatMap((name) => {
    const number = (CAPABILITIES as readonly string[]).indexOf(name);
    if (number < 0) throw new Error(`unknown capability "${name}" in process.capabilities.${set}`);
    return number <= lastCap ? [number] : [];
  });
}

const prctl = libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
const capset = libc.func('int capset(void *header, void *data)');
const PR_CAPBSET_DROP = 24;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** Before the uid changes: what leaves the bounding set needs CAP_SETPCAP, which root still has. */
export function dropBoundingSet(plan: CapabilityPlan): void {
  const keep = new Set(plan.bounding);
  for (let cap = 0; cap <= plan.lastCap; cap++) {
    if (!keep.has(cap)) check(prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) as number, `drop ${CAPABILITIES[cap] ?? cap} from the bounding set`);
  }
}

function mask(caps: number[]): [number, number] {
  let low = 0, high = 0;
  for (const cap of caps) {
    if (cap < 32) low |= 1 << cap;
    else high |= 1 << (cap - 32);
  }
  return [low >>> 0, high >>> 0];
}

/** After the uid changes: the effective, permitted and inheritable sets, then the ambient one. */
export function applyCapabilitySets(plan: CapabilityPlan): void {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  const data = Buffer.alloc(24); // two struct __user_cap_data_struct { effective, permitted, inheritable }
  const [effective, permitted, inheritable] = [mask(plan.effective), mask(plan.permitted), mask(plan.inheritable)];
  for (let i = 0; i < 2; i++) {
    data.writeUInt32LE(effective[i]!, i * 12);
    data.writeUInt32LE(permitted[i]!, i * 12 + 4);
    data.writeUInt32LE(inheritable[i]!, i * 12 + 8);
  }
  check(capset(header, data) as number, 'capset');
  // The kernel raises an ambient capability only if it is permitted and inheritable; runc's
  // default spec asks for ambient ones without inheritable ones, and runc skips them: so do we.
  const raisable = new Set(plan.inheritable.filter((cap) => plan.permitted.includes(cap)));
  for (const cap of plan.ambient.filter((c) => raisable.has(c))) {
    check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) as number, `raise ambient ${CAPABILITIES[cap]}`);
  }
}
