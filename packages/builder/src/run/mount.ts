// Overlay mounts for the builder's snapshots, through the runtime's mount(2) wrapper.
import { MNT_DETACH, MS, mount, umount } from '@tsrunc/runtime/platform';

export function mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string): void {
  const data = `lowerdir=${lowerDirs.join(':')},upperdir=${upperDir},workdir=${workDir}`;
  mount('overlay', target, 'overlay', 0, data, `mount overlay on ${target}`);
}

/** An overlay of lower directories only: read-only, the first one on top (whiteouts in it hide what is below). */
export function mountReadOnlyOverlay(lowerDirs: string[], target: string): void {
  mount('overlay', target, 'overlay', MS.RDONLY, `lowerdir=${lowerDirs.join(':')}`, `mount overlay on ${target}`);
}

export function unmount(target: string): void {
  umount(target, MNT_DETACH);
}
