// mount(2) and umount2(2) for the builder's snapshots, through the runtime's libc handle.
import { check, libc } from '@tsrunc/runtime/sys/libc';

const mountC = libc.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
const umount2C = libc.func('int umount2(const char *target, int flags)');
const MNT_DETACH = 2;

export function mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string): void {
  const data = `lowerdir=${lowerDirs.join(':')},upperdir=${upperDir},workdir=${workDir}`;
  check(mountC('overlay', target, 'overlay', 0, data) as number, `mount overlay on ${target}`);
}

export function unmount(target: string): void {
  check(umount2C(target, MNT_DETACH) as number, `umount ${target}`);
}
