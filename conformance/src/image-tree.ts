// An image as a docker user meets it, read through a dockerd: its config document (`docker save`)
// and the file tree a container of it starts on (`docker export`, unpacked by GNU tar as root and
// read back with lstat). Reading every image the same way lets two builders' images be compared
// entry by entry, whatever each builder's own layout and compression.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Dockerd } from './dockerd.js';

/** One entry of a file tree: what a builder decides about it (times are left out). */
export interface TreeEntry {
  kind: 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';
  /** Permission bits with setuid, setgid and sticky, in octal. */
  mode: string;
  owner: string;
  /** Symlinks: the target as written. */
  target?: string;
  /** Regular files: size, content hash and hard link count. */
  size?: number;
  sha256?: string;
  links?: number;
  /** Device nodes: the device number, as the kernel encodes it. */
  device?: number;
}

function must(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

function mustDocker(d: Dockerd, args: string[]): string {
  const r = d.docker(args, 600_000);
  if (r.status !== 0) throw new Error(`docker ${args[0]}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

function kindOf(st: fs.Stats): TreeEntry['kind'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return st.isFIFO() ? 'fifo' : 'socket';
}

function entryOf(file: string, st: fs.Stats): TreeEntry {
  const entry: TreeEntry = { kind: kindOf(st), mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), owner: `${st.uid}:${st.gid}` };
  if (entry.kind === 'symlink') entry.target = fs.readlinkSync(file);
  if (entry.kind === 'file') {
    entry.size = st.size;
    entry.sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    entry.links = st.nlink;
  }
  if (entry.kind === 'char' || entry.kind === 'block') entry.device = st.rdev;
  return entry;
}

/** Every entry below `root`, keyed by its absolute path in the image. */
function readTree(root: string): Map<string, TreeEntry> {
  const tree = new Map<string, TreeEntry>();
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      const st = fs.lstatSync(file);
      tree.set(`/${path.relative(root, file)}`, entryOf(file, st));
      if (st.isDirectory()) walk(file);
    }
  };
  walk(root);
  return tree;
}

/** The file tree of a container made from `ref`, read in `scratch` (emptied after). */
export function exportedTree(d: Dockerd, ref: string, scratch: string): Map<string, TreeEntry> {
  const archive = path.join(scratch, 'export.tar');
  const root = path.join(scratch, 'rootfs');
  // A command is given, as images on scratch may have none; the container is never started.
  const id = mustDocker(d, ['create', ref, '/parity-never-run']).trim();
  try {
    mustDocker(d, ['export', '-o', archive, id]);
  } finally {
    d.docker(['rm', id]);
  }
  try {
    fs.mkdirSync(root);
    must('tar', ['--numeric-owner', '--same-owner', '-xpf', archive, '-C', root]);
    return readTree(root);
  } finally {
    fs.rmSync(archive, { force: true });
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** The image config document of `ref`, as `docker save` writes it. */
export function savedConfig(d: Dockerd, ref: string, scratch: string): Record<string, unknown> {
  const archive = path.join(scratch, 'save.tar');
  try {
    mustDocker(d, ['save', '-o', archive, ref]);
    const [manifest] = JSON.parse(must('tar', ['-xOf', archive, 'manifest.json'])) as { Config: string }[];
    if (!manifest) throw new Error(`docker save ${ref}: no image in its manifest.json`);
    return JSON.parse(must('tar', ['-xOf', archive, manifest.Config])) as Record<string, unknown>;
  } finally {
    fs.rmSync(archive, { force: true });
  }
}
