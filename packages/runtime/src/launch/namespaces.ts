// linux.namespaces -> which namespaces the native stage joins (by path) and which it creates,
// with the runtime-spec's rules for invalid combinations.
import type { LinuxNamespace } from '@tsrunc/spec-schemas';

export type NamespaceType = LinuxNamespace['type'];

export const CLONE_FLAGS: Record<NamespaceType, number> = {
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  ipc: 0x08000000,
  uts: 0x04000000,
  mount: 0x00020000,
  cgroup: 0x02000000,
  time: 0x00000080,
};

/** The names /proc/PID/ns/ uses for each type. */
export const PROC_NS_NAME: Record<NamespaceType, string> = {
  user: 'user', pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', cgroup: 'cgroup', time: 'time',
};

export interface NamespacePlan {
  /** Joined in this order: the user namespace first, so that the others are joined with its rights. */
  join: { type: NamespaceType; path: string }[];
  cloneFlags: number;
  created: Set<NamespaceType>;
  /** Every namespace the container has of its own, created or joined. */
  all: Set<NamespaceType>;
}

export function planNamespaces(namespaces: LinuxNamespace[] = []): NamespacePlan {
  const plan: NamespacePlan = { join: [], cloneFlags: 0, created: new Set(), all: new Set() };
  for (const ns of namespaces) {
    if (!(ns.type in CLONE_FLAGS)) throw new Error(`namespace type "${ns.type}" is not supported`);
    if (plan.all.has(ns.type)) throw new Error(`duplicate namespace type "${ns.type}" in linux.namespaces`);
    plan.all.add(ns.type);
    if (ns.path) {
      plan.join.push({ type: ns.type, path: ns.path });
    } else {
      plan.created.add(ns.type);
      plan.cloneFlags |= CLONE_FLAGS[ns.type];
    }
  }
  plan.join.sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'));
  return plan;
}

/** The spec's cross-field rules for a container of its own (create/run). */
export function checkNamespaceRules(plan: NamespacePlan, linux: { uidMappings?: unknown[]; gidMappings?: unknown[]; timeOffsets?: unknown } | undefined): void {
  // Without a mount namespace the rootfs is built in the host's: rootfs/plan.ts says what then.
  const hasMappings = (linux?.uidMappings?.length ?? 0) > 0 || (linux?.gidMappings?.length ?? 0) > 0;
  if (plan.created.has('user') && !hasMappings) throw new Error('user namespace enabled, but no uid/gid mappings found');
  if (!plan.created.has('user') && hasMappings) throw new Error('uid/gid mappings given, but no new user namespace requested');
  if (linux?.timeOffsets && !plan.created.has('time')) throw new Error('linux.timeOffsets given, but no new time namespace requested');
}
