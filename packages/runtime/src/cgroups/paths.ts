// Turns the spec's cgroupsPath into directories, following runc's cgroupfs driver:
// an absolute path is taken from each hierarchy's root, a relative one from the caller's own
// cgroup (for v2, from its parent, because the caller's leaf already holds processes and
// could not enable controllers for a child). An empty path means "/<container id>".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CgroupError } from './files.js';
import type { V1Mount } from './mode.js';

/**
 * Cleans a cgroupsPath the way runc does: ".." can never climb above the starting point,
 * and an absolute path stays absolute, a relative one stays relative.
 */
export function cleanCgroupPath(cgroupsPath: string): string {
  const rooted = path.posix.join('/', cgroupsPath);
  return cgroupsPath.startsWith('/') ? rooted : rooted.slice(1);
}

/** Checks the systemd "slice:prefix:name" form, then refuses: no systemd driver here. */
function rejectSystemd(cgroupsPath: string | undefined): never {
  if (cgroupsPath !== undefined && cgroupsPath !== '') {
    const parts = cgroupsPath.split(':');
    if (parts.length !== 3 || parts[2] === '') {
      throw new CgroupError(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "${cgroupsPath}"`);
    }
    const slice = parts[0] ?? '';
    if (slice !== '' && (!slice.endsWith('.slice') || slice.includes('/'))) {
      throw new CgroupError(`invalid systemd slice name "${slice}" in cgroupsPath "${cgroupsPath}"`);
    }
  }
  if (!fs.existsSync('/run/systemd/system')) {
    throw new CgroupError('systemd cgroup manager requested but systemd is not running (no /run/systemd/system)');
  }
  throw new CgroupError('the systemd cgroup manager is not implemented; use the cgroupfs manager (no --systemd-cgroup)');
}

/** The container's cgroup path, absolute or relative, before it is placed in a hierarchy. */
export function innerCgroupPath(id: string, cgroupsPath: string | undefined, systemd: boolean): string {
  if (systemd) rejectSystemd(cgroupsPath);
  const inner = cleanCgroupPath(cgroupsPath === undefined || cgroupsPath === '' ? `/${id}` : cgroupsPath);
  if (inner === '/' || inner === '') throw new CgroupError(`cgroupsPath "${cgroupsPath}" names the root cgroup; refusing to manage it`);
  return inner;
}

/**
 * Where a cgroup path of /proc/self/cgroup is found under a mount of its hierarchy. Those paths
 * are relative to the hierarchy root, which is not the mount's root when only a sub-tree is
 * mounted (as inside a container).
 */
export function mountedCgroupDir(mount: V1Mount, cgroupPath: string): string {
  const under = mount.root !== '/' && (cgroupPath === mount.root || cgroupPath.startsWith(`${mount.root}/`));
  const underMount = under ? cgroupPath.slice(mount.root.length) : cgroupPath;
  return path.join(mount.mountpoint, underMount);
}

/** The directory of `inner` in one v1 hierarchy; `own` is the caller's path in it. */
export function v1Dir(mount: V1Mount, inner: string, own: string | undefined): string {
  if (inner.startsWith('/')) return path.join(mount.mountpoint, inner);
  return path.join(mountedCgroupDir(mount, own ?? '/'), inner);
}

/** The directory of `inner` in the unified hierarchy mounted at `root`. */
export function v2Dir(root: string, inner: string, own: string | undefined): string {
  if (inner.startsWith('/')) return path.join(root, inner);
  return path.join(root, path.posix.dirname(own ?? '/'), inner);
}
