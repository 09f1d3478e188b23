// Capability names <-> numbers, and the five sets the process executor applies.
import fs from 'node:fs';
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
