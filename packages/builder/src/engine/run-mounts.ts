// RUN --mount: cache directories kept in the store across builds, tmpfs, secrets bound read-only
// from the host (never part of a layer or a cache key), binds of the context (or of a local
// one named by --build-context) or of another stage's filesystem (read-only, or writable with
// the writes discarded), and sockets relaying to
// the host's ssh-agent.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Mount } from '@tsrunc/spec-schemas';
import { openSnapshot } from '../run/snapshot.js';
import { contextView } from './context-view.js';
import type { IgnoreMatcher } from './ignore.js';
import { existingPathInRoot } from './in-root.js';
import type { SocketOwner } from './ssh-agent.js';

export interface RunMountSpec {
  type: 'cache' | 'tmpfs' | 'secret' | 'bind' | 'ssh';
  target: string;
  options: Record<string, string>;
}

const BOOLEAN_KEYS = new Set(['readonly', 'ro', 'rw', 'readwrite', 'required']);

/** Where a mount goes when the Dockerfile does not say, as BuildKit places them. */
function defaultTarget(type: string, options: Record<string, string>, sshIndex: number): string | undefined {
  if (type === 'secret' && options.id) return `/run/secrets/${options.id}`;
  if (type === 'ssh') return `/run/buildkit/ssh_agent.${sshIndex}`;
  return undefined;
}

/** "type=cache,target=/root/.cache,id=x" -> a spec, checked. `sshIndex` numbers the RUN's ssh mounts, for their default target. */
export function parseRunMount(text: string, sshIndex = 0): RunMountSpec {
  const options: Record<string, string> = {};
  for (const field of text.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    if (eq < 0 && !BOOLEAN_KEYS.has(key)) throw new Error(`--mount=${text}: "${field}" needs a value`);
    options[key] = eq < 0 ? 'true' : field.slice(eq + 1);
  }
  const type = options.type ?? 'bind';
  if (type !== 'cache' && type !== 'tmpfs' && type !== 'secret' && type !== 'bind' && type !== 'ssh') throw new Error(`--mount=${text}: unknown type "${type}"`);
  const target = options.target ?? options.dst ?? options.destination ?? defaultTarget(type, options, sshIndex);
  if (!target) throw new Error(`--mount=${text}: target is required`);
  if (type === 'secret' && !options.id) throw new Error(`--mount=${text}: a secret needs an id`);
  return { type, target: path.posix.resolve('/', target), options };
}

/** What the cache key of a RUN sees of its mounts: their shape, never a secret's content or a cache's. */
export function mountKey(specs: RunMountSpec[]): string {
  return JSON.stringify(specs.map((m) => [m.type, m.target, m.options]));
}

export interface MountSources {
  storeRoot: string;
  /** A directory of the step's own, for the writable views of rw binds. */
  scratch: string;
  contextDir: string;
  /** .dockerignore: what a bind of the context does not show. */
  contextIgnore: IgnoreMatcher;
  secrets: Record<string, string>;
  /** A local directory --build-context named, for bind mounts with from= (shown as the context is). */
  namedContext(name: string): { dir: string; ignore: IgnoreMatcher } | undefined;
  /** The filesystem of a stage, for bind mounts with from=. */
  stageRootfs(name: string): Promise<string>;
  /** A socket relaying to the --ssh agent `id`, owned and moded as asked; undefined if none was given. */
  sshSocket(id: string, owner: SocketOwner): Promise<string | undefined>;
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== 'false';
}

export interface StepMounts {
  mounts: Mount[];
  /** Undoes the writable views made for rw binds, whose writes are discarded. */
  release(): void;
}

/** The OCI mounts for a step, with any directory they need made ready. */
export async function resolveRunMounts(specs: RunMountSpec[], sources: MountSources): Promise<StepMounts> {
  const mounts: Mount[] = [];
  const releases: (() => void)[] = [];
  const release = () => { for (const undo of releases.splice(0).reverse()) undo(); };
  try {
    await addMounts(specs, sources, mounts, releases);
  } catch (err) {
    release();
    throw err;
  }
  return { mounts, release };
}

/** Where RUN --mount=type=cache directories live, under the store root; `prune --all` empties it. */
export const CACHE_MOUNTS_DIR = 'cache-mounts';

async function addMounts(specs: RunMountSpec[], sources: MountSources, mounts: Mount[], releases: (() => void)[]): Promise<void> {
  for (const m of specs) {
    const o = m.options;
    if (m.type === 'tmpfs') {
      mounts.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(o.size ? [`size=${o.size}`] : [])] });
    } else if (m.type === 'cache') {
      // A cache seeded from a stage is another cache than an empty one of the same id.
      const identity = JSON.stringify([o.id ?? m.target, o.from ?? null, o.source ?? o.src ?? null]);
      const dir = path.join(sources.storeRoot, CACHE_MOUNTS_DIR, createHash('sha256').update(identity).digest('hex').slice(0, 32));
      if (!fs.existsSync(dir)) await createCacheDir(dir, m, sources);
      mounts.push({ destination: m.target, type: 'bind', source: dir, options: ['rbind', truthy(o.ro ?? o.readonly) ? 'ro' : 'rw'] });
    } else if (m.type === 'ssh') {
      const id = o.id ?? 'default';
      const socket = await sources.sshSocket(id, { uid: Number(o.uid ?? 0), gid: Number(o.gid ?? 0), mode: o.mode ? parseInt(o.mode, 8) : 0o600 });
      if (!socket) {
        if (truthy(o.required)) throw new Error(`ssh agent ${id} is required but was not given with --ssh ${id}[=SOCKET]`);
        continue;
      }
      mounts.push({ destination: m.target, type: 'bind', source: socket, options: ['bind', 'nosuid', 'nodev', 'noexec'] });
    } else if (m.type === 'secret') {
      const file = sources.secrets[o.id!];
      if (!file) {
        if (truthy(o.required)) throw new Error(`secret ${o.id} is required but was not given with --secret id=${o.id},src=FILE`);
        continue;
      }
      mounts.push({ destination: m.target, type: 'bind', source: file, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
    } else {
      const scratch = path.join(sources.scratch, `bind-${mounts.length}`);
      fs.mkdirSync(scratch, { recursive: true });
      let source: string;
      const named = o.from ? sources.namedContext(o.from) : undefined;
      if (o.from && !named) {
        const root = await sources.stageRootfs(o.from);
        source = path.join(root, bindSource(root, m));
      } else {
        const { dir, ignore } = named ?? { dir: sources.contextDir, ignore: sources.contextIgnore };
        const context = contextView(dir, bindSource(dir, m), ignore, path.join(scratch, 'context'));
        releases.push(context.release);
        source = context.path;
      }
      if (truthy(o.rw ?? o.readwrite)) {
        const view = writableView(source, path.join(scratch, 'writable'));
        releases.push(view.release);
        mounts.push({ destination: m.target, type: 'bind', source: view.path, options: ['rbind', 'rw'] });
      } else {
        mounts.push({ destination: m.target, type: 'bind', source, options: ['rbind', 'ro'] });
      }
    }
  }
}

/**
 * A new cache directory: empty (owned and moded as the mount says), or, with from=, a copy of
 * the stage's directory (source=, resolved inside the stage) to start from, as BuildKit seeds it.
 */
async function createCacheDir(dir: string, m: RunMountSpec, sources: MountSources): Promise<void> {
  const o = m.options;
  const staging = `${dir}.new`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(staging), { recursive: true });
  if (o.from) {
    const root = await sources.stageRootfs(o.from);
    const seed = path.join(root, bindSource(root, m));
    if (!fs.statSync(seed).isDirectory()) throw new Error(`--mount=type=cache,from=${o.from}: ${o.source ?? o.src ?? '/'} is not a directory`);
    const copy = spawnSync('cp', ['-a', '--no-target-directory', seed, staging], { encoding: 'utf8' });
    if (copy.status !== 0) throw new Error(`--mount=type=cache,from=${o.from}: ${copy.stderr.trim()}`);
  } else {
    fs.mkdirSync(staging, { mode: o.mode ? parseInt(o.mode, 8) : 0o755 });
    fs.chownSync(staging, Number(o.uid ?? 0), Number(o.gid ?? 0));
  }
  // Complete or absent: a build stopped half-way through the copy leaves no half-seeded cache.
  fs.renameSync(staging, dir);
}

/**
 * rw binds: the step may write, but neither the context nor the stage sees it. A directory gets
 * an overlay of its own (or a copy where overlayfs cannot mount, as RUN snapshots do); a file, a copy.
 */
function writableView(source: string, dir: string): { path: string; release(): void } {
  if (fs.statSync(source).isDirectory()) {
    const snapshot = openSnapshot({ root: source, lowers: [source] }, dir, 'auto');
    return { path: snapshot.rootfs, release: () => snapshot.release() };
  }
  fs.mkdirSync(dir, { recursive: true });
  const copy = path.join(dir, path.basename(source));
  fs.copyFileSync(source, copy);
  fs.chmodSync(copy, fs.statSync(source).mode & 0o7777);
  return { path: copy, release: () => {} };
}

/** Where a bind mount's source is, relative to `root` (the context or a stage's filesystem), resolved inside it. */
export function bindSource(root: string, m: RunMountSpec): string {
  const wanted = m.options.source ?? m.options.src ?? '';
  const found = existingPathInRoot(root, wanted);
  if (found === undefined) throw new Error(`--mount=type=${m.type}: ${wanted || '/'} does not exist in ${m.options.from ? `stage ${m.options.from}` : 'the build context'}`);
  return found;
}
