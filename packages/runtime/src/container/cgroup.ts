// The container's cgroup, as the lifecycle commands see it: made at create from config.json,
// recorded in the state, reopened by later calls.
import type { LinuxDeviceCgroup, Spec } from '@tsrunc/spec-schemas';
import { openCgroup, reopenCgroupManager, type CgroupManager } from '../cgroups/index.js';
import type { ContainerRecord } from '../state/store.js';
import type { RuntimeContext } from './context.js';

/**
 * The devices every container may use whatever its rules say, appended after them as runc does:
 * mknod of any node (access is what is controlled), the default /dev nodes, ptys and tun.
 */
const ALWAYS_ALLOWED: LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [10, 200]].map(
    ([major, minor]): LinuxDeviceCgroup => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, access: 'rwm' },
];

/** config.json's device rules, then the always-allowed ones and one for each of linux.devices. */
function deviceRules(config: Spec): LinuxDeviceCgroup[] {
  const own = (config.linux?.devices ?? []).map((d): LinuxDeviceCgroup => (
    { allow: true, type: d.type === 'u' ? 'c' : d.type, major: d.major, minor: d.minor, access: 'rwm' }));
  return [...(config.linux?.resources?.devices ?? []), ...ALWAYS_ALLOWED, ...own];
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
