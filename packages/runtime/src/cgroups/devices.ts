// Device access rules. v1 has the devices controller's allow/deny files; v2 has an eBPF
// program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup, built from the rules.
import type { LinuxDeviceCgroup } from '@tsrunc/spec-schemas';
import { deviceProgram } from './bpf/device-program.js';
import { deviceAccess } from './device-access.js';
import { replaceDeviceProgram } from './bpf/syscall.js';
import { CgroupError, writeCgroupFile } from './files.js';

function deviceNumber(n: number | undefined): string {
  return n === undefined || n < 0 ? '*' : String(n);
}

/** "type major:minor access", e.g. "c 1:3 rwm" or "a *:* rwm". */
export function deviceRuleText(rule: LinuxDeviceCgroup): string {
  const type = rule.type === undefined || rule.type === '' ? 'a' : rule.type;
  if (!['a', 'b', 'c'].includes(type)) throw new CgroupError(`invalid device rule type "${type}" (expected a, b or c)`);
  const access = deviceAccess(rule.access);
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
  rules.forEach((rule, i) => {
    // A rule naming none of r, w, m changes nothing (the kernel would refuse its empty access).
    if (deviceAccess(rule.access) !== '') writeCgroupFile(dir, rule.allow ? 'devices.allow' : 'devices.deny', texts[i] ?? '');
  });
}

function isWildcard(rule: LinuxDeviceCgroup): boolean {
  return (rule.type === undefined || rule.type === '' || rule.type === 'a') && deviceNumber(rule.major) === '*' && deviceNumber(rule.minor) === '*';
}

/** True when the rules amount to "allow every device": v2 then needs no program at all. */
export function allowsEverything(rules: LinuxDeviceCgroup[]): boolean {
  const texts = rules.map(deviceRuleText); // rejects malformed rules with the same messages as v1
  const last = rules[rules.length - 1];
  const lastGrantsAll = last?.allow === true && new Set(texts[texts.length - 1]?.split(' ')[2]).size === 3;
  return rules.length === 0 || (isWildcard(last!) && lastGrantsAll);
}

/** v2: the rules as a device filter program on the cgroup, replacing the previous one. */
export function applyV2Devices(dir: string, rules: LinuxDeviceCgroup[]): void {
  replaceDeviceProgram(dir, allowsEverything(rules) ? null : deviceProgram(rules));
}
