// Mount options of config.json ("nosuid", "rbind", "rro", "mode=755"...) split into what
// mount(2) takes as flags, what it takes as data, propagation changes, and recursive
// attributes for mount_setattr(2), with the same vocabulary as runc.
import { MOUNT_ATTR, MS } from '../sys/mount.js';

export interface MountOptions {
  /** MS_* flags for mount(2). */
  flags: number;
  /** Filesystem-specific options, comma-joined. */
  data: string;
  /** Each applied by its own mount(2) call after the mount: MS_SHARED, MS_SLAVE|MS_REC... */
  propagation: number[];
  /** MOUNT_ATTR_* to set and clear recursively ("rro", "rnosuid"...). */
  attrSet: number;
  attrClear: number;
  /** runc's "tmpcopyup": a tmpfs starts with the image's content at its destination. */
  copyUp: boolean;
}

const FLAGS: Record<string, { set?: number; clear?: number }> = {
  async: { clear: MS.SYNCHRONOUS }, atime: { clear: MS.NOATIME }, bind: { set: MS.BIND },
  defaults: {}, dev: { clear: MS.NODEV }, diratime: { clear: MS.NODIRATIME }, dirsync: { set: MS.DIRSYNC },
  exec: { clear: MS.NOEXEC }, mand: { set: MS.MANDLOCK }, noatime: { set: MS.NOATIME },
  nodev: { set: MS.NODEV }, nodiratime: { set: MS.NODIRATIME }, noexec: { set: MS.NOEXEC },
  nomand: { clear: MS.MANDLOCK }, norelatime: { clear: MS.RELATIME }, nostrictatime: { clear: MS.STRICTATIME },
  nosuid: { set: MS.NOSUID }, nosymfollow: { set: MS.NOSYMFOLLOW }, rbind: { set: MS.BIND | MS.REC },
  relatime: { set: MS.RELATIME }, remount: { set: MS.REMOUNT }, ro: { set: MS.RDONLY }, rw: { clear: MS.RDONLY },
  strictatime: { set: MS.STRICTATIME }, suid: { clear: MS.NOSUID }, sync: { set: MS.SYNCHRONOUS },
  lazytime: { set: MS.LAZYTIME }, nolazytime: { clear: MS.LAZYTIME }, symfollow: { clear: MS.NOSYMFOLLOW },
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

const RECURSIVE: Record<string, { set?: number; clear?: number }> = {
  rro: { set: MOUNT_ATTR.RDONLY }, rrw: { clear: MOUNT_ATTR.RDONLY },
  rnosuid: { set: MOUNT_ATTR.NOSUID }, rsuid: { clear: MOUNT_ATTR.NOSUID },
  rnodev: { set: MOUNT_ATTR.NODEV }, rdev: { clear: MOUNT_ATTR.NODEV },
  rnoexec: { set: MOUNT_ATTR.NOEXEC }, rexec: { clear: MOUNT_ATTR.NOEXEC },
  rnodiratime: { set: MOUNT_ATTR.NODIRATIME }, rdiratime: { clear: MOUNT_ATTR.NODIRATIME },
  rrelatime: { set: MOUNT_ATTR.RELATIME, clear: MOUNT_ATTR.ATIME_MASK },
  rnoatime: { set: MOUNT_ATTR.NOATIME, clear: MOUNT_ATTR.ATIME_MASK },
  rstrictatime: { set: MOUNT_ATTR.STRICTATIME, clear: MOUNT_ATTR.ATIME_MASK },
  rnosymfollow: { set: MOUNT_ATTR.NOSYMFOLLOW }, rsymfollow: { clear: MOUNT_ATTR.NOSYMFOLLOW },
};

export function parseMountOptions(options: string[] = []): MountOptions {
  const result: MountOptions = { flags: 0, data: '', propagation: [], attrSet: 0, attrClear: 0, copyUp: false };
  const data: string[] = [];
  for (const option of options) {
    const flag = FLAGS[option];
    const recursive = RECURSIVE[option];
    if (flag) {
      result.flags = (result.flags | (flag.set ?? 0)) & ~(flag.clear ?? 0);
    } else if (option in PROPAGATION) {
      result.propagation.push(PROPAGATION[option]!);
    } else if (recursive) {
      result.attrSet = (result.attrSet | (recursive.set ?? 0)) & ~(recursive.clear ?? 0);
      result.attrClear |= recursive.clear ?? 0;
    } else if (option === 'tmpcopyup') {
      result.copyUp = true;
    } else if (option === 'idmap' || option === 'ridmap') {
      throw new Error(`mount option "${option}" (id-mapped mounts) is not supported`);
    } else {
      data.push(option);
    }
  }
  result.data = data.join(',');
  return result;
}
