// The calling process' own settings that the runtime changes from JavaScript: prctl and umask,
// bound once for every module that needs them.
import { check, libc } from './libc.js';

const prctlC = libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
const umaskC = libc.func('uint32_t umask(uint32_t mask)');

export const PR_SET_PDEATHSIG = 1;
export const PR_SET_CHILD_SUBREAPER = 36;

/** prctl(option, value), which throws naming the option on failure. */
export function prctl(option: number, value: number, what: string): void {
  check(prctlC(option, value, 0, 0, 0) as number, `prctl(${what})`);
}

/** Sets the umask; returns the previous one. */
export function umask(mask: number): number {
  return umaskC(mask) as number;
}
