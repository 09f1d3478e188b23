// Bind mount sources of a container with a user namespace, opened by tsrunc with the host's
// privileges and handed to the container's process as fds, as runc does (its nsexec opens them in the
// container's mount namespace and sends them over SCM_RIGHTS). That process is root only in its
// user namespace: a source below a directory only the host's root may enter (a 0700 bundle
// directory) does not exist for it by name, yet through an fd it can be bound like any other.
//
// Each source is opened through /proc/PID/root of that process: in its mount namespace, so that
// the mount it names is one the init may bind (mount(2) refuses a mount of another namespace),
// and with RESOLVE_IN_ROOT, so that symlinks resolve there as they would for the init itself
// (before pivot_root that root is the mount namespace's copy of the host's "/").
import fs from 'node:fs';
import { sendFd } from '../console/socket.js';
import type { RootfsPlan } from '../rootfs/plan.js';
import { isRunning, type ProcessId } from '../state/proc.js';
import type { SysError } from '../sys/libc.js';
import { O, openInRoot } from '../sys/openat2.js';

/** Which of the plan's mounts get their source as an fd: every bind mount, when there is a user namespace. */
export function mountSourceIndexes(plan: RootfsPlan, userNamespace: boolean): number[] {
  if (!userNamespace) return [];
  return plan.mounts.flatMap((m, index) => (m.bind ? [index] : []));
}

/** O_PATH fds of those sources, in `indexes`' order, opened in the init's mount namespace; the caller closes them. */
export function openMountSources(init: ProcessId, plan: RootfsPlan, indexes: number[]): number[] {
  if (indexes.length === 0) return [];
  const root = fs.openSync(`/proc/${init.pid}/root`, O.PATH | O.DIRECTORY | O.CLOEXEC);
  const fds: number[] = [];
  try {
    // Checked after the open: the pid named our init when its root was opened, not a process
    // that got the pid after the init died.
    if (!isRunning(init.pid, init.startTime)) throw new Error('container init exited before the container was created');
    for (const index of indexes) {
      const m = plan.mounts[index]!;
      try {
        fds.push(openInRoot(root, m.source, O.PATH));
      } catch (err) {
        if ((err as SysError).code === 'ENOENT') throw new Error(`mount ${m.destination}: bind source ${m.source} does not exist`);
        throw err;
      }
    }
    return fds;
  } catch (err) {
    for (const fd of fds) fs.closeSync(fd);
    throw err;
  } finally {
    fs.closeSync(root);
  }
}

/** Sends the fds over the sync socket, once the rootfs executor asks for them (native/rootfs.c receives them). */
export function sendMountSources(socket: number, fds: number[], indexes: number[]): void {
  fds.forEach((fd, i) => sendFd(socket, fd, String(indexes[i]), 'a mount source'));
}
