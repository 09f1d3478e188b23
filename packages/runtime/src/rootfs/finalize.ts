// What is done to the container's filesystem once it is "/": settings written through its own
// /proc, paths hidden or made read-only, read-only tmpfs and /dev, and the read-only root last.
import fs from 'node:fs';
import { libc, check } from '../sys/libc.js';
import { MS, mount, remountBind } from '../sys/mount.js';
import { REMOUNT_ONLY } from './mounts.js';
import { readonlyLast, type RootfsPlan } from './plan.js';

const sethostname = libc.func('int sethostname(const char *name, size_t len)');
const setdomainname = libc.func('int setdomainname(const char *name, size_t len)');

function writeSysctls(sysctl: Record<string, string>): void {
  for (const [key, value] of Object.entries(sysctl)) {
    fs.writeFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, value);
  }
}

function exists(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

/** maskedPaths: an empty read-only tmpfs over a directory, /dev/null over anything else. */
function maskPath(p: string): void {
  const stat = exists(p);
  if (!stat) return;
  if (stat.isDirectory()) mount('tmpfs', p, 'tmpfs', MS.RDONLY, '', `mask ${p}`);
  else mount('/dev/null', p, '', MS.BIND, '', `mask ${p}`);
}

function readonlyPath(p: string): void {
  if (!exists(p)) return;
  mount(p, p, '', MS.BIND | MS.REC, '', `bind ${p} for readonlyPaths`);
  remountBind(p, MS.RDONLY | MS.REC);
}

export function finalizeRootfs(plan: RootfsPlan): void {
  writeSysctls(plan.sysctl);
  if (plan.hostname !== undefined) check(sethostname(plan.hostname, Buffer.byteLength(plan.hostname)) as number, 'sethostname');
  if (plan.domainname !== undefined) check(setdomainname(plan.domainname, Buffer.byteLength(plan.domainname)) as number, 'setdomainname');
  for (const p of plan.readonlyPaths) readonlyPath(p);
  for (const p of plan.maskedPaths) maskPath(p);
  // After everything below them is in place (/dev/pts, device nodes, the console), as runc.
  for (const m of plan.mounts.filter(readonlyLast)) remountBind(m.destination, m.flags & REMOUNT_ONLY);
  if (plan.readonly) remountBind('/', MS.RDONLY);
}
