// The container's cgroup, as the lifecycle commands see it: made at create from config.json,
// recorded in the state, reopened by later calls.
import type { LinuxDeviceCgroup, Spec } from '@tsrunc/spec-schemas';
import { openCgroup, reopenCgroupManager, type CgroupManager } from '../cgroups/index.js';
import type { ContainerRecord } from '../state/store.js';
import type { RuntimeContext } from './context.js';

/**
 * The devices every container may use whatever its rules say, appended after them as runc does:
 * mknod of any node (access is what is controlled), the default /dev nodes (with the path runc
 * creates them at), ptys and tun. Nothing else: a node of linux.devices is created in /dev but
 * reachable only if linux.resources.devices allows it, as with runc.
 */
const ALWAYS_ALLOWED: { path?: string; rule: LinuxDeviceCgroup }[] = [
  { rule: { allow: true, type: 'c', access: 'm' } },
  { rule: { allow: true, type: 'b', access: 'm' } },
  ...([['/dev/null', 1, 3], ['/dev/random', 1, 8], ['/dev/full', 1, 7], ['/dev/tty', 5, 0], ['/dev/zero', 1, 5], ['/dev/urandom', 1, 9]] as const)
    .map(([path, major, minor]) => ({ path, rule: { allow: true, type: 'c', major, minor, access: 'rwm' } as LinuxDeviceCgroup })),
  { rule: { allow: true, type: 'c', major: 136, access: 'rwm' } },
  { rule: { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' } },
  { rule: { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' } },
];

/**
 * config.json's device rules, then the always-allowed ones; a default node that linux.devices
 * replaces (same path) loses its rule, as runc drops it.
 */
function deviceRules(config: Spec): LinuxDeviceCgroup[] {
  const replaced = new Set((config.linux?.devices ?? []).map((d) => d.path));
  const defaults = ALWAYS_ALLOWED.filter((d) => d.path === undefined || !replaced.has(d.path)).map((d) => d.rule);
  return [...(config.linux?.resources?.devices ?? []), ...defaults];
}

export function openContainerCgroup(ctx: RuntimeContext, id: string, config: Spec): CgroupManager {
  return openCgroup({
    id,
    cgroupsPath: config.linux?.cgroupsPath,
    systemd: ctx.systemdCgroup,
    resources: { ...config.linux?.resources, devices: deviceRules(config) },
  });
}

/** The manager recorded at create, or undefined for a record without one. */
export function reopenCgroup(record: ContainerRecord): CgroupManager | undefined {
  return record.cgroup === undefined ? undefined : reopenCgroupManager(record.cgroup);
}

export function requireCgroup(record: ContainerRecord): CgroupManager {
  const cgroup = reopenCgroup(record);
  if (!cgroup) throw new Error(`container ${record.id} has no cgroup`);
  return cgroup;
}
