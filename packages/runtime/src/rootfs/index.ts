// The container's root filesystem, built by the init stage inside its new mount namespace, or in
// the host's for a container without one (plan.ts's hostMountNamespace).
import fs from 'node:fs';
import { MS, mount } from '../sys/mount.js';
import { mkdirAllInRoot, O } from '../sys/openat2.js';
import { umask } from '../sys/process.js';
import { setupDev } from './devices.js';
import { finalizeRootfs } from './finalize.js';
import { mountOne } from './mounts.js';
import { makeRootfsParentPrivate } from './parent-mount.js';
import { chrootInto, moveInto, pivotInto } from './pivot.js';
import type { Jail, RootfsPlan } from './plan.js';

export { mountConsole } from './console.js';
export { planRootfs, type RootfsPlan } from './plan.js';

const JAIL: Record<Jail, (rootfs: string) => void> = { pivot_root: pivotInto, move: moveInto, chroot: chrootInto };

function bindRootfs(rootfs: string): void {
  mount(rootfs, rootfs, '', MS.BIND | MS.REC, '', `bind the rootfs ${rootfs} on itself`);
}

/**
 * In the host's mount namespace the propagation of the host's mounts is left as it is: only the
 * rootfs' own bind, a new mount, is made private, so that the mounts below it go nowhere else
 * (not to the rootfs' directory under it, not to the host's peers) and come off with it.
 */
function bindRootfsInHost(rootfs: string): void {
  bindRootfs(rootfs);
  mount('', rootfs, '', MS.PRIVATE | MS.REC, '', `make the rootfs' bind ${rootfs} private`);
}

export interface RootfsHooks {
  /** Mounts are made, "/" is still the host's: the createContainer hooks' moment. */
  beforePivot(): void;
  /** "/" is the container's and nothing in it is read-only yet: the console's moment. */
  afterPivot(): void;
}

/** `sources`: fds of bind mount sources tsrunc opened (a user namespace's), by index in plan.mounts; closed here once bound. */
export function setupRootfs(plan: RootfsPlan, sources: Map<number, number>, hooks: RootfsHooks): void {
  // Device nodes and mount points get exactly the modes of the spec.
  umask(0);
  if (plan.hostMountNamespace) {
    bindRootfsInHost(plan.rootfs);
  } else {
    // Nothing mounted from here on reaches the host (slave), unless rootfsPropagation says otherwise.
    mount('', '/', '', plan.rootPropagation, '', 'set the propagation of /');
    makeRootfsParentPrivate(plan.rootfs);
    // The rootfs becomes a mount of its own, which pivot_root requires.
    bindRootfs(plan.rootfs);
  }
  const rootFd = fs.openSync(plan.rootfs, O.PATH | O.DIRECTORY | O.CLOEXEC);
  try {
    for (const [index, m] of plan.mounts.entries()) {
      const sourceFd = sources.get(index);
      try {
        mountOne(rootFd, m, plan.cgroupNamespace, sourceFd);
      } finally {
        if (sourceFd !== undefined) fs.closeSync(sourceFd);
      }
    }
    if (plan.setupDev) setupDev(rootFd, plan.devices);
    fs.closeSync(mkdirAllInRoot(rootFd, plan.cwd));
  } finally {
    fs.closeSync(rootFd);
  }
  hooks.beforePivot();
  JAIL[plan.jail](plan.rootfs);
  if (plan.explicitPropagation) mount('', '/', '', plan.rootPropagation, '', 'set the propagation of /');
  hooks.afterPivot();
  finalizeRootfs(plan);
}
