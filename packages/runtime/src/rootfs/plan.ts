// What the rootfs executor (native/rootfs.c) does to build the container's root filesystem, decided from config.json by
// tsrunc before anything is touched: every error of the config surfaces here, on the host side.
import fs from 'node:fs';
import path from 'node:path';
import type { LinuxDevice, LinuxNamespace, Mount, Spec } from '@tsrunc/spec-schemas';
import { PROC_NS_NAME, type NamespaceType } from '../launch/namespaces.js';
import { MS } from '../sys/mount.js';
import { parseMountOptions, PROPAGATION, type MountOptions } from './mount-options.js';
import { checkProcDestination } from './proc-rules.js';

export interface MountPlan extends MountOptions {
  /** Absolute host path for bind mounts, else the source as given ("proc", "tmpfs"...). */
  source: string;
  /** Absolute, lexically clean path inside the container. */
  destination: string;
  type: string;
  bind: boolean;
}

export interface DevicePlan {
  path: string;
  type: 'c' | 'b' | 'p' | 'u';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
}

/**
 * How the rootfs becomes the container's "/": pivot_root in a mount namespace of its own; with
 * --no-pivot (a rootfs on ramfs, which pivot_root refuses) moved over "/", then chroot; in the
 * host's mount namespace chroot alone, since moving it over "/" would replace the host's.
 */
export type Jail = 'pivot_root' | 'move' | 'chroot';

export interface RootfsPlan {
  rootfs: string;
  jail: Jail;
  /**
   * The container has no mount namespace of its own (none listed, or the host's joined), so its
   * mounts are made in the host's: the host's "/" and the mount holding the rootfs keep their
   * propagation, and the rootfs' bind on itself is made private, so that nothing mounted below it
   * reaches another mount or namespace; `delete` takes it down (host-mounts.ts).
   */
  hostMountNamespace: boolean;
  readonly: boolean;
  /** MS_* propagation of "/" in the container's mount namespace (unused in the host's). */
  rootPropagation: number;
  /** rootfsPropagation was given: applied again to the new "/" after pivot_root. */
  explicitPropagation: boolean;
  mounts: MountPlan[];
  /** A cgroup namespace of the container's own (new, or joined and not the host's): what its cgroup mounts show. */
  cgroupNamespace: boolean;
  /** /dev is not bind-mounted from the host: create default devices and /dev symlinks. */
  setupDev: boolean;
  devices: DevicePlan[];
  maskedPaths: string[];
  readonlyPaths: string[];
  /** process.cwd, created when missing, as runc does. */
  cwd: string;
  hostname?: string;
  domainname?: string;
  sysctl: Record<string, string>;
}

const DEFAULT_DEVICES: DevicePlan[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, mode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, mode: 0o666, uid: 0, gid: 0 },
];

/**
 * A read-only tmpfs, or a read-only /dev, is mounted writable and made read-only last (finalize.ts),
 * as runc does: a tmpfs gets its mode and copied-up content, /dev its nodes, symlinks and the mounts
 * below it, after it is mounted.
 */
export function readonlyLast(m: MountPlan): boolean {
  return (m.flags & MS.RDONLY) !== 0 && !m.bind && (m.type === 'tmpfs' || m.destination === '/dev');
}

/** "/a/../b//c" -> "/b/c"; ".." never climbs above "/". */
function cleanContainerPath(p: string): string {
  return path.posix.normalize('/' + p);
}

function isBind(mount: Mount): boolean {
  return mount.type === 'bind' || (mount.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

function planMount(mount: Mount, bundle: string): MountPlan {
  const options = parseMountOptions(mount.options);
  const bind = isBind(mount);
  if (bind) options.flags |= MS.BIND;
  const source = mount.source ?? '';
  if (!bind && !mount.type) throw new Error(`mount ${mount.destination}: type is required for a non-bind mount`);
  if (bind && !source) throw new Error(`mount ${mount.destination}: a bind mount needs a source`);
  const plan: MountPlan = {
    ...options,
    source: bind ? path.resolve(bundle, source) : source,
    destination: cleanContainerPath(mount.destination),
    type: bind ? '' : mount.type!,
    bind,
  };
  // As written; the rootfs executor checks again where the rootfs' symlinks lead it.
  checkProcDestination(plan);
  return plan;
}

function planDevice(device: LinuxDevice): DevicePlan {
  const type = device.type as DevicePlan['type'];
  if (type !== 'p' && (device.major === undefined || device.minor === undefined)) {
    throw new Error(`linux.devices ${device.path}: major and minor are required for type ${type}`);
  }
  const devicePath = cleanContainerPath(device.path);
  if (!devicePath.startsWith('/dev/')) throw new Error(`linux.devices ${device.path}: devices must be under /dev`);
  return {
    path: devicePath,
    type,
    major: device.major ?? 0,
    minor: device.minor ?? 0,
    mode: device.fileMode ?? 0o666,
    uid: device.uid ?? 0,
    gid: device.gid ?? 0,
  };
}

/** The default devices, unless config.json gives one at the same path. */
function withDefaultDevices(devices: DevicePlan[]): DevicePlan[] {
  const given = new Set(devices.map((d) => d.path));
  return [...DEFAULT_DEVICES.filter((d) => !given.has(d.path)), ...devices];
}

/** Sysctls a container may only set in a namespace of its own (the kernel would apply them host-wide). */
function checkSysctl(key: string, namespaces: Set<string>): void {
  const ipc = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];
  if (ipc.includes(key) || key.startsWith('fs.mqueue.')) {
    if (!namespaces.has('ipc')) throw new Error(`sysctl "${key}" is not allowed in the hosts ipc namespace`);
  } else if (key.startsWith('net.')) {
    if (!namespaces.has('network')) throw new Error(`sysctl "${key}" is not allowed in the hosts network namespace`);
  } else if (key === 'kernel.hostname' || key === 'kernel.domainname') {
    if (!namespaces.has('uts')) throw new Error(`sysctl "${key}" is not allowed as it conflicts with the OCI "hostname" field`);
  } else {
    throw new Error(`sysctl "${key}" is not in a separate kernel namespace`);
  }
  if (key.includes('/') || key.split('.').includes('..')) throw new Error(`sysctl "${key}": invalid name`);
}

/** A namespace of the container's own: a new one, or one joined by path that is not the host's (as podman passes them). */
function isPrivate(ns: LinuxNamespace): boolean {
  if (!ns.path) return true;
  try {
    const joined = fs.statSync(ns.path);
    const host = fs.statSync(`/proc/self/ns/${PROC_NS_NAME[ns.type as NamespaceType]}`);
    return joined.ino !== host.ino || joined.dev !== host.dev;
  } catch {
    return true; // a path that does not resolve fails later, where it is joined, with its own error
  }
}

/**
 * What cannot be done without a mount namespace of the container's own: hiding or protecting paths
 * (runc's refusal, in its words), a propagation for "/", which would be the host's "/", and any
 * mount from a user namespace of its own, whose root does not own the host's mount namespace (runc
 * fails there with EPERM, half way).
 */
function checkHostMountNamespace(linux: NonNullable<Spec['linux']>, namespaces: Set<string>): void {
  if (namespaces.has('user')) throw new Error('a user namespace needs a private mount namespace too: its root cannot mount in the host\'s');
  if ((linux.maskedPaths?.length ?? 0) > 0 || (linux.readonlyPaths?.length ?? 0) > 0) {
    throw new Error('unable to restrict sys entries without a private MNT namespace');
  }
  if (linux.rootfsPropagation) {
    throw new Error(`rootfsPropagation "${linux.rootfsPropagation}" needs a private mount namespace: it would change the host's "/"`);
  }
}

/** `rootfs` is the bundle's, already resolved to its real path (config/load.ts). */
export function planRootfs(spec: Spec, options: { bundle: string; rootfs: string; noPivot: boolean }): RootfsPlan {
  const linux = spec.linux ?? {};
  const namespaces = new Set((linux.namespaces ?? []).filter(isPrivate).map((ns) => ns.type as string));
  const mounts = (spec.mounts ?? []).map((m) => planMount(m, options.bundle));
  const propagation = linux.rootfsPropagation;
  if (propagation && !(propagation in PROPAGATION)) throw new Error(`rootfsPropagation "${propagation}" is not valid`);
  const hostMountNamespace = !namespaces.has('mount');
  if (hostMountNamespace) checkHostMountNamespace(linux, namespaces);
  if ((spec.hostname || spec.domainname) && !namespaces.has('uts')) {
    throw new Error(`unable to set ${spec.hostname ? 'hostname' : 'domainname'} without a private UTS namespace`);
  }
  const sysctl = linux.sysctl ?? {};
  for (const key of Object.keys(sysctl)) checkSysctl(key, namespaces);
  const devBound = mounts.some((m) => m.destination === '/dev' && m.bind);
  return {
    rootfs: options.rootfs,
    jail: hostMountNamespace ? 'chroot' : options.noPivot ? 'move' : 'pivot_root',
    hostMountNamespace,
    readonly: spec.root?.readonly === true,
    rootPropagation: propagation ? PROPAGATION[propagation]! : MS.SLAVE | MS.REC,
    explicitPropagation: propagation !== undefined && propagation !== '',
    mounts,
    cgroupNamespace: namespaces.has('cgroup'),
    setupDev: !devBound,
    devices: devBound ? [] : withDefaultDevices((linux.devices ?? []).map(planDevice)),
    maskedPaths: (linux.maskedPaths ?? []).map(cleanContainerPath),
    readonlyPaths: (linux.readonlyPaths ?? []).map(cleanContainerPath),
    cwd: cleanContainerPath(spec.process?.cwd ?? '/'),
    ...(spec.hostname ? { hostname: spec.hostname } : {}),
    ...(spec.domainname ? { domainname: spec.domainname } : {}),
    sysctl,
  };
}
