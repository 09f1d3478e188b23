// Device access rules. v1 has the devices controller's allow/deny files; v2 would need an
// eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE), which this runtime does not load yet.
import type { LinuxDeviceCgroup } from '@tsrunc/spec-schemas';
import { CgroupError, writeCgroupFile } from './files.js';

function deviceNumber(n: number | undefined): string {
  return n === undefined || n < 0 ? '*' : String(n);
}

/** "type major:minor access", e.g. "c 1:3 rwm" or "a *:* rwm". */
export function deviceRuleText(rule: LinuxDeviceCgroup): string {
  const type = rule.type === undefined || rule.type === '' ? 'a' : rule.type;
  if (!['a', 'b', 'c'].includes(type)) throw new CgroupError(`invalid device rule type "${type}" (expected a, b or c)`);
  const access = rule.access === undefined || rule.access === '' ? 'rwm' : rule.access;
  if (!/^[rwm]+$/.test(access)) throw new CgroupError(`invalid device rule access "${access}" (expected letters from rwm)`);
  if (type === 'a') return `a *:* ${access}`;
  return `${type} ${deviceNumber(rule.major)}:${deviceNumber(rule.minor)} ${access}`;
}

/**
 * v1: start from "deny everything" and replay the rules in order, as runc does, so the
 * result does not depend on what the cgroup allowed before.
 */
export function applyV1Devices(dir: string, rules: LinuxDeviceCgroup[]): void {
  const texts = rules.map(deviceRuleText);
  writeCgroupFile(dir, 'devices.deny', 'a');
  rules.forEach((rule, i) => writeCgroupFile(dir, rule.allow ? 'devices.allow' : 'devices.deny', texts[i] ?? ''));
}

function isWildcard(rule: LinuxDeviceCgroup): boolean {
  return (rule.type === undefined || rule.type === '' || rule.type === 'a') && deviceNumber(rule.major) === '*' && deviceNumber(rule.minor) === '*';
}

/**
 * v2 without an eBPF program allows every device. That is only correct when the rules
 * amount to "allow all"; anything else is refused rather than silently not enforced.
 */
export function checkV2Devices(rules: LinuxDeviceCgroup[]): void {
  const texts = rules.map(deviceRuleText); // rejects malformed rules with the same messages as v1
  const last = rules[rules.length - 1];
  const lastGrantsAll = last?.allow === true && new Set(texts[texts.length - 1]?.split(' ')[2]).size === 3;
  const allowAll = rules.length === 0 || (rules.every(isWildcard) && lastGrantsAll);
  if (!allowAll) throw new CgroupError('cgroup v2 device rules are not supported yet');
}
