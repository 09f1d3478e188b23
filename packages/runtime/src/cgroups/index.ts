// Entry point of the cgroup manager: picks v1 or v2 from the host's mounts and resolves the
// container's cgroupsPath into directories.
import { CgroupError } from './files.js';
import { CGROUP_ROOT, detectCgroupMode, ownCgroups } from './mode.js';
import { innerCgroupPath, v2Dir } from './paths.js';
import type { CgroupManager, CgroupOptions, CgroupRecord } from './types.js';
import { checkResources } from './validate.js';
import { V1Manager, v1Paths } from './v1.js';
import { V2Manager } from './v2.js';

export type { CgroupManager, CgroupOptions, CgroupRecord, CgroupStats, BlkioEntry } from './types.js';
export type { CgroupMode } from './mode.js';
export { CgroupError } from './files.js';
export { detectCgroupMode };
export { checkExistingCgroup } from './preflight.js';
export { parseSubCgroupArgs, subCgroupRecord, type SubCgroups } from './sub-cgroup.js';

export function openCgroup(options: CgroupOptions): CgroupManager {
  const inner = innerCgroupPath(options.id, options.cgroupsPath, options.systemd);
  const mode = detectCgroupMode();
  // Before the caller makes anything: a value the kernel would refuse leaves nothing behind.
  if (options.resources !== undefined) checkResources(mode.version, options.resources);
  const own = ownCgroups();
  if (mode.version === 2) {
    const root = mode.unifiedRoot ?? CGROUP_ROOT;
    return new V2Manager(v2Dir(root, inner, own['']), root, options.resources);
  }
  if (Object.keys(mode.v1Mounts).length === 0) throw new CgroupError('no cgroup hierarchy is mounted (neither cgroup2 at /sys/fs/cgroup nor any cgroup v1 controller)');
  return new V1Manager(v1Paths(mode, inner, own), options.resources);
}

/** Rebuilds a manager from the record kept in the container's state file. */
export function reopenCgroupManager(record: CgroupRecord): CgroupManager {
  if (record.version === 1) return new V1Manager(record.paths);
  const dir = record.paths['unified'];
  if (dir === undefined) throw new CgroupError('invalid cgroup record: version 2 without a "unified" path');
  return new V2Manager(dir);
}
