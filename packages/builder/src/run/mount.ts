// Overlay mounts for the builder's snapshots, through the runtime's mount(2) wrapper.
import { MNT_DETACH, mount, umount } from '@tsrunc/runtime/sys/mount';

export function mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string): void {
  const data = `lowerdir=${lowerDirs.join(':')},upperdir=${upperDir},workdir=${workDir}`;
  mount('overlay', target, 'overlay', 0, data, `mount overlay on ${target}`);
}

export function unmount(target: string): void {
  umount(target, MNT_DETACH);
}
