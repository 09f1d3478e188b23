// Killing what a container runs and unmounting what it left in the host's mount namespace, shared
// by delete and by create's undo: both may face a container whose create was cut short, with a
// cgroup half made or an init not yet known.
import type { CgroupManager } from '../cgroups/index.js';
import { unmountFromHost } from '../rootfs/host-mounts.js';
import { isRunning, waitGone, type ProcessId } from '../state/proc.js';
import type { ContainerRecord } from '../state/store.js';

const SIGKILL = 9;

/** SIGKILLs every process in `cgroup` and the init, and waits for the init to be gone. */
export function killProcesses(cgroup: CgroupManager | undefined, init: ProcessId | undefined): void {
  // An empty cgroup is left alone: a create cut short while making it leaves some of its
  // directories missing (which freezing would trip on), and no process can be in it yet.
  if (cgroup !== undefined && cgroup.pids().length > 0) {
    cgroup.killAll(SIGKILL);
    if (cgroup.state() === 'frozen') cgroup.thaw(); // frozen processes never act on SIGKILL
  }
  if (init === undefined) return;
  if (isRunning(init.pid, init.startTime)) {
    try {
      process.kill(init.pid, SIGKILL);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // died meanwhile
    }
  }
  if (!waitGone(init.pid, init.startTime, 10_000)) throw new Error(`container init ${init.pid} did not die`);
}

/** A container without a mount namespace of its own: its mounts below the rootfs, in the host's. */
export function unmountContainerMounts(record: Pick<ContainerRecord, 'rootfs' | 'hostMountBase'>): void {
  if (record.hostMountBase !== undefined) unmountFromHost(record.rootfs, record.hostMountBase);
}
