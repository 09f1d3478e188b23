// Overlay mounts for the builder's snapshots, through the runtime's mount(2) wrapper.
import fs from 'node:fs';
import { MNT_DETACH, MS, mount, umount, type SysError } from '@tsrunc/runtime/platform';

/**
 * A writable overlay. `volatile` (Linux 5.10): the fsyncs of what runs on it return at once, and
 * its writes are flushed by the caller, once, when it is done (dpkg alone fsynced 752 times in one
 * apt-get install: ~1 s on this disk); buildah mounts its containers so too. Returns whether the
 * mount is volatile: a kernel without the option gets a plain overlay.
 */
export function mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string, volatile = false): boolean {
  const data = `lowerdir=${lowerDirs.join(':')},upperdir=${upperDir},workdir=${workDir}${featuresOff()}`;
  if (volatile) {
    try {
      mount('overlay', target, 'overlay', 0, `${data},volatile`, `mount overlay on ${target}`);
      return true;
    } catch (err) {
      if ((err as SysError).code !== 'EINVAL') throw err;
    }
  }
  mount('overlay', target, 'overlay', 0, data, `mount overlay on ${target}`);
  return false;
}

let overridden: string | undefined;

/**
 * The mount options that turn off what this kernel's overlayfs turns on by default (module
 * parameters) and a layer cannot hold: `index` would keep a file a COPY linked into two snapshots
 * one file when a step changes it under one of its names, `metacopy` would leave an upper file
 * that only points at its lower one.
 */
function featuresOff(): string {
  overridden ??= ['index', 'metacopy'].filter((feature) => {
    try {
      return fs.readFileSync(`/sys/module/overlay/parameters/${feature}`, 'utf8').trim() === 'Y';
    } catch {
      return false; // no such parameter: no such feature
    }
  }).map((feature) => `,${feature}=off`).join('');
  return overridden;
}

/** An overlay of lower directories only: read-only, the first one on top (whiteouts in it hide what is below). */
export function mountReadOnlyOverlay(lowerDirs: string[], target: string): void {
  mount('overlay', target, 'overlay', MS.RDONLY, `lowerdir=${lowerDirs.join(':')}`, `mount overlay on ${target}`);
}

export function unmount(target: string): void {
  umount(target, MNT_DETACH);
}
