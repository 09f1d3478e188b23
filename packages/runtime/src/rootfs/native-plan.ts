// A RootfsPlan as the native rootfs executor (native/rootfs.c) performs it: an ordered list of
// operations in the record format of launch/plan-records.ts. Every decision is taken here: which
// mounts, in which order, with which flags, what may land on /proc, which devices and links; the
// executor resolves each path inside the rootfs and performs the operation, nothing more.
import fs from 'node:fs';
import type { Hook, State } from '@tsrunc/spec-schemas';
import { PlanWriter, u32s, nulTerminated, type ConsoleRecord } from '../launch/plan-records.js';
import { makedev } from '../sys/devices.js';
import { MS } from '../sys/mount.js';
import { cgroupMountSteps, type CgroupView } from './cgroup-mount.js';
import { readonlyLast, type DevicePlan, type Jail, type MountPlan, type RootfsPlan } from './plan.js';
import { LXCFS_FILES, mayLandOnProc } from './proc-rules.js';

/** Operation tags; keep in step with `enum op` in native/rootfs.c. */
const OP = {
  keyring: 1, mountSources: 2, prepare: 3, procAllowed: 4, mount: 5, mountAttrs: 6, remount: 7,
  device: 8, symlink: 9, mkdir: 10, prePivot: 11, createContainerHook: 12, jail: 13, rootPropagation: 14,
  console: 15, sysctl: 16, hostname: 17, domainname: 18, readonlyPath: 19, maskPath: 20,
} as const;

const KIND = { bind: 0, filesystem: 1, tmpfs: 2 } as const;
const OPTION = { copyUp: 1, readonlyLast: 2, sysfsFallback: 4, mayBeProc: 8, exact: 16 } as const;
const JAIL: Record<Jail, number> = { pivot_root: 0, move: 1, chroot: 2 };

/** The flags that a bind mount only takes on a remount. */
const REMOUNT_ONLY = ~(MS.BIND | MS.REC | MS.REMOUNT);

const FILE_TYPE: Record<DevicePlan['type'], number> = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 };

/** What the executor needs besides the plan: from the host and the parent, at create time. */
export interface RootfsExtras {
  /** Name of a new session keyring for the container, so that it does not share the host's keys. */
  sessionKeyring?: string;
  /** Indexes of plan.mounts whose sources come as fds, in the order tsrunc sends them. */
  mountSources: number[];
  createContainerHooks: Hook[];
  /** The state given to hooks, with the init's pid as the parent sees it. */
  state: State;
  /** process.terminal: the init's fd of the console socket, to which the pty's master goes. */
  console?: ConsoleRecord;
  /** For "cgroup" mounts: the host's hierarchies and the init's cgroups. */
  cgroups?: CgroupView;
}

/** Encodes /dev's links: the usual ones, and /dev/ptmx as the container's own devpts multiplexer. */
const DEV_SYMLINKS: [target: string, path: string][] = [
  ['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'], ['/proc/self/fd/2', '/dev/stderr'],
];

class RootfsPlanWriter extends PlanWriter {
  mount(m: MountPlan, kind: number, options: number, sourceIndex: number): void {
    const header = Buffer.concat([u32s(kind, m.flags, m.flags & REMOUNT_ONLY, options), u32s(sourceIndex)]);
    this.record(OP.mount, Buffer.concat([header, nulTerminated([m.source, m.destination, m.type, m.data])]));
  }

  remount(path: string, flags: number, inRoot: boolean): void {
    this.record(OP.remount, Buffer.concat([u32s(flags, inRoot ? 1 : 0), Buffer.from(path)]));
  }

  symlink(target: string, path: string, replace: boolean): void {
    this.record(OP.symlink, Buffer.concat([u32s(replace ? 1 : 0), nulTerminated([target, path])]));
  }
}

function kindOf(m: MountPlan): number {
  if (m.bind) return KIND.bind;
  return m.type === 'tmpfs' ? KIND.tmpfs : KIND.filesystem;
}

function optionsOf(m: MountPlan): number {
  let options = 0;
  if (m.copyUp) options |= OPTION.copyUp;
  if (readonlyLast(m)) options |= OPTION.readonlyLast;
  if (m.type === 'sysfs') options |= OPTION.sysfsFallback | OPTION.exact;
  if (m.type === 'proc') options |= OPTION.exact;
  if (mayLandOnProc(m)) options |= OPTION.mayBeProc;
  return options;
}

function writeMount(w: RootfsPlanWriter, m: MountPlan, index: number, plan: RootfsPlan, extras: RootfsExtras): void {
  if (m.type === 'cgroup' || m.type === 'cgroup2') {
    if (!extras.cgroups) throw new Error(`mount ${m.destination}: no cgroup view for a cgroup mount`);
    // The mount's own destination is checked as any other's; the steps land below it.
    for (const s of cgroupMountSteps(m, plan.cgroupNamespace, extras.cgroups)) {
      if (s.step === 'mount') w.mount(s.mount, s.mount.bind ? KIND.bind : KIND.filesystem, 0, -1);
      else if (s.step === 'remount') w.remount(s.destination, s.flags, true);
      else w.symlink(s.target, s.path, false);
    }
  } else {
    w.mount(m, kindOf(m), optionsOf(m), extras.mountSources.includes(index) ? index : -1);
  }
  if (m.propagation.length > 0 || m.attrSet || m.attrClear) {
    w.record(OP.mountAttrs, Buffer.concat([u32s(m.propagation.length, m.attrSet, m.attrClear, ...m.propagation), Buffer.from(m.destination)]));
  }
}

function writeDevice(w: RootfsPlanWriter, d: DevicePlan): void {
  const value = Buffer.alloc(20);
  value.writeUInt32LE(FILE_TYPE[d.type] | (d.mode & 0o7777), 0);
  value.writeBigUInt64LE(makedev(d.major, d.minor), 4);
  value.writeUInt32LE(d.uid, 12);
  value.writeUInt32LE(d.gid, 16);
  w.record(OP.device, Buffer.concat([value, Buffer.from(d.path)]));
}

export function encodeRootfsPlan(plan: RootfsPlan, extras: RootfsExtras): Buffer {
  const w = new RootfsPlanWriter();
  if (extras.sessionKeyring !== undefined) w.text(OP.keyring, extras.sessionKeyring);
  if (extras.mountSources.length > 0) w.u32s(OP.mountSources, ...extras.mountSources);
  w.record(OP.prepare, Buffer.concat([u32s(plan.rootPropagation, plan.hostMountNamespace ? 1 : 0), Buffer.from(plan.rootfs)]));
  for (const path of LXCFS_FILES) w.text(OP.procAllowed, path);
  plan.mounts.forEach((m, index) => writeMount(w, m, index, plan, extras));
  if (plan.setupDev) {
    for (const device of plan.devices) writeDevice(w, device);
    const kcore: [string, string][] = fs.existsSync('/proc/kcore') ? [['/proc/kcore', '/dev/core']] : [];
    for (const [target, path] of [...DEV_SYMLINKS, ...kcore]) w.symlink(target, path, false);
    w.symlink('pts/ptmx', '/dev/ptmx', true);
  }
  w.text(OP.mkdir, plan.cwd);
  // Mounts made, "/" still the host's: tsrunc runs prestart and createRuntime, then the
  // createContainer hooks run here, in the container's namespaces.
  w.record(OP.prePivot);
  for (const hook of extras.createContainerHooks) w.hook(OP.createContainerHook, hook, extras.state);
  w.u32s(OP.jail, JAIL[plan.jail]);
  if (plan.explicitPropagation) w.u32s(OP.rootPropagation, plan.rootPropagation);
  // The pty comes from the container's own devpts, and /dev/console is bound before a read-only
  // root or path could refuse the mount point, as runc orders it.
  if (extras.console) w.console(OP.console, extras.console);
  for (const [key, value] of Object.entries(plan.sysctl)) w.record(OP.sysctl, nulTerminated([key.replace(/\./g, '/'), value]));
  if (plan.hostname !== undefined) w.text(OP.hostname, plan.hostname);
  if (plan.domainname !== undefined) w.text(OP.domainname, plan.domainname);
  for (const path of plan.readonlyPaths) w.text(OP.readonlyPath, path);
  for (const path of plan.maskedPaths) w.text(OP.maskPath, path);
  // After everything below them is in place (/dev/pts, device nodes, the console), as runc.
  for (const m of plan.mounts.filter(readonlyLast)) w.remount(m.destination, m.flags & REMOUNT_ONLY, false);
  if (plan.readonly) w.remount('/', MS.RDONLY, false);
  return w.finish();
}
