// config.json's device rules as a BPF_PROG_TYPE_CGROUP_DEVICE program. The kernel calls it with
// struct bpf_cgroup_dev_ctx { u32 access_type (type | access << 16); u32 major; u32 minor; }
// and allows the access when it returns 1. Rules are checked from the last to the first, the
// first match deciding, so a later rule overrides an earlier one as with v1's devices files;
// nothing matching means deny.
import type { LinuxDeviceCgroup } from '@tsrunc/spec-schemas';
import { deviceAccess } from '../device-access.js';
import { andImm, exit, jumpIfEqual, jumpIfNot, loadWord, movImm, movReg, rshImm, type Insn } from './asm.js';

const DEVICE_TYPE: Record<string, number> = { b: 1, c: 2 };
const ACCESS: Record<string, number> = { m: 1, r: 2, w: 4 };

// Registers: r1 the context, r3 the device type, r4 the requested access, r5 major, r6 minor.
const prologue: Insn[] = [
  loadWord(2, 1, 0),
  movReg(3, 2), andImm(3, 0xffff),
  movReg(4, 2), rshImm(4, 16),
  loadWord(5, 1, 4),
  loadWord(6, 1, 8),
];

function accessBits(access: string | undefined): number {
  return [...deviceAccess(access)].reduce((bits, letter) => bits | ACCESS[letter]!, 0);
}

/** One rule: tests that fall through to its verdict, or jump past it to the next rule. */
function ruleBlock(rule: LinuxDeviceCgroup): Insn[] {
  const tests: ((skip: number) => Insn)[] = [];
  const type = rule.type || 'a';
  if (type !== 'a') tests.push((skip) => jumpIfNot(3, DEVICE_TYPE[type]!, skip));
  if (rule.major !== undefined && rule.major >= 0) tests.push((skip) => jumpIfNot(5, rule.major!, skip));
  if (rule.minor !== undefined && rule.minor >= 0) tests.push((skip) => jumpIfNot(6, rule.minor!, skip));
  const bits = accessBits(rule.access);
  // An allow rule matches when everything requested is in it; a deny rule when anything is.
  const access: ((skip: number) => Insn)[] = rule.allow
    ? [() => movReg(0, 4), () => andImm(0, ~bits & 7), (skip) => jumpIfNot(0, 0, skip)]
    : [() => movReg(0, 4), () => andImm(0, bits), (skip) => jumpIfEqual(0, 0, skip)];
  const all = [...tests, ...access];
  const verdict = [movImm(0, rule.allow ? 1 : 0), exit()];
  // A jump at position i skips the rest of the block: the later tests and the verdict.
  return [...all.map((make, i) => make(all.length - 1 - i + verdict.length)), ...verdict];
}

export function deviceProgram(rules: LinuxDeviceCgroup[]): Insn[] {
  return [...prologue, ...[...rules].reverse().flatMap(ruleBlock), movImm(0, 0), exit()];
}
