// What runc checks of the container's cgroup before it creates anything: a cgroup that already
// holds processes is shared (a warning, as runc 1.1 gives), a frozen one would freeze the init
// before it could report anything (an error, instead of a create that never returns).
import type { CgroupManager } from './types.js';

export function checkExistingCgroup(cgroup: CgroupManager, warn: (message: string) => void): void {
  const found = cgroup.pids().length;
  if (found > 0) warn(`container's cgroup is not empty: ${found} process(es) found`);
  if (cgroup.state() === 'frozen') throw new Error("container's cgroup unexpectedly frozen");
}
