// /proc/<pid>/mountinfo, parsed once for the runtime, the builder and the tests. A line is
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue
// mount id, parent id, st_dev, root within the filesystem, mount point, per-mount options, zero or
// more optional fields (propagation), a lone "-", then filesystem type, source and the
// superblock's options (proc(5)).
import fs from 'node:fs';

export interface MountInfo {
  id: number;
  parentId: number;
  /** st_dev of the filesystem, "major:minor". */
  device: string;
  /** The directory of the filesystem this mount shows ("/" for all of it, a subdirectory for a bind). */
  root: string;
  mountpoint: string;
  /** Per-mount options: "rw" or "ro", "nosuid", "relatime"... */
  options: string[];
  /** Propagation tags: "shared:N", "master:N", "propagate_from:N", "unbindable". */
  optionalFields: string[];
  fstype: string;
  /** The device or name the filesystem was mounted from ("none" when it has none). */
  source: string;
  /** The superblock's options: "rw", "lowerdir=...", cgroup v1 controllers... */
  superOptions: string[];
}

/**
 * The kernel writes a space, tab, newline or backslash in a path as an octal escape (\040), and a
 * comma or "=" in a superblock option's value too. Only ASCII is escaped, so each escape is one
 * character.
 */
function unescapeField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_escape, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Splits an option list on its unescaped commas, then decodes each option. */
function optionList(field: string): string[] {
  return field === '' ? [] : field.split(',').map(unescapeField);
}

export function parseMountinfoLine(line: string): MountInfo {
  const fields = line.split(' ');
  // The optional fields end at a lone "-"; the six fields before them are always there.
  const separator = fields.indexOf('-', 6);
  if (separator < 0 || fields.length !== separator + 4) throw new Error(`mountinfo: malformed line "${line}"`);
  const [id, parentId, device, root, mountpoint, options] = fields as [string, string, string, string, string, string];
  return {
    id: Number(id),
    parentId: Number(parentId),
    device,
    root: unescapeField(root),
    mountpoint: unescapeField(mountpoint),
    options: options.split(','),
    optionalFields: fields.slice(6, separator),
    fstype: unescapeField(fields[separator + 1]!),
    source: unescapeField(fields[separator + 2]!),
    superOptions: optionList(fields[separator + 3]!),
  };
}

/** Every mount of a mountinfo text, in its order: a mount comes after the mounts it sits on or under. */
export function parseMountinfo(text: string): MountInfo[] {
  return text.split('\n').filter((line) => line !== '').map(parseMountinfoLine);
}

/** The mounts this process sees (`pid`'s, for another process). */
export function readMountinfo(pid: number | 'self' = 'self'): MountInfo[] {
  return parseMountinfo(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}

/**
 * The mount points at or below `dir`, in the order they come off: the last mounted first, so a
 * mount on top of another (or over a directory holding another) goes before it. A point with
 * mounts stacked on it is listed once per mount.
 */
export function mountPointsUnder(dir: string, mounts: MountInfo[] = readMountinfo()): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mounts.map((m) => m.mountpoint).filter((p) => p === dir || p.startsWith(prefix)).reverse();
}
