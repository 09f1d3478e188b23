// What the peers a test starts (containerd, podman) leave on the host when they are done with a
// container: mounts under their state dirs, and the parent cgroups they put containers in.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mountPointsUnder } from '@tsrunc/runtime/platform';

/** Lazily unmounts every mount at or below `dir`, the last mounted first. */
export function unmountUnder(dir: string): void {
  for (const point of mountPointsUnder(dir)) spawnSync('umount', ['-l', point]);
}

/** rmdir of a cgroup and the cgroups below it, deepest first; one still in use stays. */
function removeCgroupTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(path.join(dir, entry.name));
  }
  try {
    fs.rmdirSync(dir);
  } catch {
    // a process of the host still uses it: not ours to remove
  }
}

/** Removes the cgroup `name` from every hierarchy that has it (v1 controllers and the unified one). */
export function removeCgroup(name: string): void {
  const roots = ['/sys/fs/cgroup', ...fs.readdirSync('/sys/fs/cgroup').map((h) => path.join('/sys/fs/cgroup', h))];
  for (const root of roots) {
    const dir = path.join(root, name);
    if (fs.existsSync(path.join(dir, 'cgroup.procs'))) removeCgroupTree(dir);
  }
}
