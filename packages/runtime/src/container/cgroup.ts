// The container's cgroup, as the lifecycle commands see it: made at create from config.json,
// recorded in the state, reopened by later calls.
import type { Spec } from '@tsrunc/spec-schemas';
import { openCgroup, reopenCgroupManager, type CgroupManager } from '../cgroups/index.js';
import type { ContainerRecord } from '../state/store.js';
import type { RuntimeContext } from './context.js';

export function openContainerCgroup(ctx: RuntimeContext, id: string, config: Spec): CgroupManager {
  return openCgroup({
    id,
    cgroupsPath: config.linux?.cgroupsPath,
    systemd: ctx.systemdCgroup,
    resources: config.linux?.resources,
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
