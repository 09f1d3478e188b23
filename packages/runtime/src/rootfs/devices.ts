// /dev of a container whose /dev is not bound from the host: device nodes (made with mknod, or
// bound from the host's where a user namespace forbids mknod) and the usual symlinks.
import fs from 'node:fs';
import path from 'node:path';
import { libc, check, lastErrno } from '../sys/libc.js';
import { makedev } from '../sys/devices.js';
import { MS, mount } from '../sys/mount.js';
import { createFileInRoot, mkdirAllInRoot, procFdPath } from '../sys/openat2.js';
import type { DevicePlan } from './plan.js';

const mknodat = libc.func('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)');
const fchownat = libc.func('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)');
const AT_SYMLINK_NOFOLLOW = 0x100;
const EEXIST = 17, EPERM = 1;
const FILE_TYPE: Record<DevicePlan['type'], number> = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 };


function createDevice(rootFd: number, device: DevicePlan): void {
  const parent = mkdirAllInRoot(rootFd, path.posix.dirname(device.path));
  const name = path.posix.basename(device.path);
  try {
    const mode = FILE_TYPE[device.type] | (device.mode & 0o7777);
    if ((mknodat(parent, name, mode, makedev(device.major, device.minor)) as number) < 0) {
      const errno = lastErrno();
      if (errno === EEXIST) return;
      if (errno !== EPERM) check(-1, `mknod ${device.path}`);
      bindHostDevice(rootFd, device);
      return;
    }
    check(fchownat(parent, name, device.uid, device.gid, AT_SYMLINK_NOFOLLOW) as number, `chown ${device.path}`);
  } finally {
    fs.closeSync(parent);
  }
}

/** In a user namespace mknod is refused: the host's node is bound on an empty file instead, as runc does. */
function bindHostDevice(rootFd: number, device: DevicePlan): void {
  const target = createFileInRoot(rootFd, device.path);
  try {
    mount(device.path, procFdPath(target), '', MS.BIND, '', `bind ${device.path} from the host`);
  } finally {
    fs.closeSync(target);
  }
}

const DEV_SYMLINKS: [string, string][] = [
  ['/proc/self/fd', 'fd'],
  ['/proc/self/fd/0', 'stdin'],
  ['/proc/self/fd/1', 'stdout'],
  ['/proc/self/fd/2', 'stderr'],
];

function createDevSymlinks(rootFd: number): void {
  const dev = mkdirAllInRoot(rootFd, '/dev');
  try {
    const links = [...DEV_SYMLINKS, ...(fs.existsSync('/proc/kcore') ? [['/proc/kcore', 'core'] as [string, string]] : [])];
    for (const [target, name] of links) {
      try {
        fs.symlinkSync(target, `${procFdPath(dev)}/${name}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    // /dev/ptmx must be the container's own devpts multiplexer, not a host node.
    fs.rmSync(`${procFdPath(dev)}/ptmx`, { force: true });
    fs.symlinkSync('pts/ptmx', `${procFdPath(dev)}/ptmx`);
  } finally {
    fs.closeSync(dev);
  }
}

export function setupDev(rootFd: number, devices: DevicePlan[]): void {
  for (const device of devices) createDevice(rootFd, device);
  createDevSymlinks(rootFd);
}
