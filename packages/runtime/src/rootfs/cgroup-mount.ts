// A "cgroup" mount of config.json. On a cgroup v2 host it is one cgroup2 filesystem. On v1 it
// is a tmpfs holding one cgroup filesystem per hierarchy of the host, as /sys/fs/cgroup looks on
// the host; with a cgroup namespace of its own the container sees only its subtree.
import fs from 'node:fs';
import { MS, mount, remountBind } from '../sys/mount.js';
import { mkdirAllInRoot, procFdPath } from '../sys/openat2.js';
import type { MountPlan } from './plan.js';

interface Hierarchy {
  /** Directory name under /sys/fs/cgroup: "cpu,cpuacct", "memory", "unified"... */
  name: string;
  fstype: 'cgroup' | 'cgroup2';
  /** Superblock options naming the controllers ("cpu,cpuacct", "name=systemd"). */
  options: string;
}

function hostHierarchies(): Hierarchy[] {
  const result: Hierarchy[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [before, after] = line.split(' - ');
    if (!before || !after) continue;
    const mountPoint = before.split(' ')[4] ?? '';
    const [fstype, , superOptions = ''] = after.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    if (!mountPoint.startsWith('/sys/fs/cgroup')) continue;
    const name = mountPoint === '/sys/fs/cgroup' ? '' : mountPoint.slice('/sys/fs/cgroup/'.length);
    const controllers = superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent') && o !== 'clone_children' && o !== 'xattr');
    result.push({ name, fstype, options: controllers.join(',') });
  }
  return result;
}

/** "cpu,cpuacct" gets the symlinks "cpu" and "cpuacct" next to it, as on the host. */
function linkCoMountedControllers(rootFd: number, destination: string, name: string): void {
  if (!name.includes(',')) return;
  const dir = mkdirAllInRoot(rootFd, destination);
  try {
    for (const controller of name.split(',')) {
      try {
        fs.symlinkSync(name, `${procFdPath(dir)}/${controller}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  } finally {
    fs.closeSync(dir);
  }
}

export function mountCgroups(rootFd: number, m: MountPlan): void {
  const hierarchies = hostHierarchies();
  const flags = (m.flags | MS.NOSUID | MS.NODEV | MS.NOEXEC) & ~MS.BIND;
  const unifiedOnly = hierarchies.length === 1 && hierarchies[0]!.fstype === 'cgroup2' && hierarchies[0]!.name === '';
  const top = mkdirAllInRoot(rootFd, m.destination);
  try {
    if (unifiedOnly || m.type === 'cgroup2') {
      mount('cgroup2', procFdPath(top), 'cgroup2', flags, '', `mount cgroup2 on ${m.destination}`);
      return;
    }
    mount('tmpfs', procFdPath(top), 'tmpfs', (flags & ~MS.RDONLY), 'mode=755', `mount tmpfs on ${m.destination}`);
  } finally {
    fs.closeSync(top);
  }
  for (const h of hierarchies) {
    if (h.name === '' || h.name.includes('/')) continue;
    const dir = mkdirAllInRoot(rootFd, `${m.destination}/${h.name}`);
    try {
      const data = h.fstype === 'cgroup' ? h.options : '';
      // In a cgroup namespace of its own the container sees its subtree as the root of each
      // hierarchy; without one it sees the host's tree, as with runc's cgroupns-less mounts.
      mount(h.fstype, procFdPath(dir), h.fstype, flags, data, `mount ${h.fstype} ${h.name} on ${m.destination}`);
    } finally {
      fs.closeSync(dir);
    }
    linkCoMountedControllers(rootFd, m.destination, h.name);
  }
  if (flags & MS.RDONLY) {
    const again = mkdirAllInRoot(rootFd, m.destination);
    try {
      remountBind(procFdPath(again), MS.RDONLY);
    } finally {
      fs.closeSync(again);
    }
  }
}
