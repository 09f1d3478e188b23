// RUN: the step's command in a container run by tsrunc, on an overlay of the parent image's
// filesystem; the overlay's upper directory becomes the step's layer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Mount } from '@tsrunc/spec-schemas';
import type { RunInstruction } from '../dockerfile/index.js';
import { extractLayer } from '../image/layer-reader.js';
import { storeDirectoryAsLayer, type StoredLayer } from '../image/layer-writer.js';
import { runInContainer, type NetworkMode } from '../run/container.js';
import { openSnapshot } from '../run/snapshot.js';
import type { ImageState } from './image-state.js';
import type { BuilderStore } from './store-root.js';
import { resolveUser } from './user.js';

export interface RunStep {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  network: NetworkMode;
}

/** A step's mount points that the parent did not have are not the step's output: remove them, and their new parents. */
function removeMountPoints(upper: string, lower: string, destinations: string[]): void {
  for (const destination of destinations) {
    let rel = path.posix.normalize(destination).replace(/^\/+/, '');
    while (rel !== '' && rel !== '.') {
      if (fs.existsSync(path.join(lower, rel))) break;
      const inUpper = path.join(upper, rel);
      const stat = fs.lstatSync(inUpper, { throwIfNoEntry: false });
      if (stat?.isDirectory() && fs.readdirSync(inUpper).length > 0) break;
      if (stat) fs.rmSync(inUpper, { force: true, recursive: true });
      rel = path.posix.dirname(rel);
    }
  }
}

/** The argv of a RUN: exec form as given, shell form through SHELL, `RUN <<EOF` as a script. */
export function runArgs(i: RunInstruction, shell: string[], expand: (text: string) => string): string[] {
  if (i.form === 'exec') return i.args;
  const command = i.command.trim();
  const only = i.heredocs.length === 1 && /^<<-?["']?\w+["']?$/.test(command) ? i.heredocs[0] : undefined;
  if (only) return [...shell, only.expand ? expand(only.content) : only.content];
  if (i.heredocs.length > 0) throw new Error('RUN with a heredoc as a command\'s input is not supported yet');
  return [...shell, i.command];
}

export function runNetwork(flag: string | string[] | undefined): NetworkMode {
  if (flag === undefined) return 'default';
  if (flag === 'default' || flag === 'none' || flag === 'host') return flag;
  throw new Error(`--network=${String(flag)}: must be default, none or host`);
}

/** Files the runtime's own mounts of a build container create as mount points. */
const HOST_FILE_MOUNTS = ['/etc/resolv.conf', '/etc/hosts'];

export class RunExecutor {
  /** Parent filesystems, flattened once per build and reused by the steps on top of them. */
  private readonly lowers = new Map<string, Promise<string>>();
  private readonly scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-run-'));

  constructor(private readonly store: BuilderStore, private readonly sourceDateEpoch?: number, private readonly signal?: AbortSignal) {}

  /** The image's filesystem at this step, flattened once per build (RUN's overlay lower, --chown's passwd). */
  filesystem(state: ImageState, key: string): Promise<string> {
    let dir = this.lowers.get(key);
    if (!dir) {
      dir = (async () => {
        const target = path.join(this.scratch, `lower-${this.lowers.size}`);
        fs.mkdirSync(target, { mode: 0o755 });
        for (const layer of state.layers) await extractLayer(fs.createReadStream(this.store.layout.blobs.path(layer.descriptor.digest)), target);
        return target;
      })();
      this.lowers.set(key, dir);
    }
    return dir;
  }

  async run(step: RunStep, mounts: Mount[], state: ImageState, parentKey: string, onOutput: (chunk: Buffer) => void): Promise<StoredLayer> {
    const lower = await this.filesystem(state, parentKey);
    const work = fs.mkdtempSync(path.join(this.scratch, 'step-'));
    fs.chmodSync(work, 0o755);
    const snapshot = openSnapshot([lower], work);
    try {
      if (snapshot.kind !== 'overlayfs') throw new Error('overlayfs cannot be mounted here, and RUN needs it (the copy fallback is not finished)');
      const { uid, gid } = resolveUser(snapshot.rootfs, step.user);
      const tail: Buffer[] = [];
      const code = await runInContainer({
        rootfs: snapshot.rootfs, args: step.args, env: step.env, cwd: step.cwd, uid, gid, additionalGids: [],
        network: step.network, insecure: false, mounts,
        onOutput: (chunk) => { tail.push(chunk); if (tail.length > 20) tail.shift(); onOutput(chunk); },
        ...(this.signal ? { signal: this.signal } : {}),
      }, path.join(work, 'state'));
      if (this.signal?.aborted) throw new Error('the build was interrupted');
      if (code !== 0) {
        const last = Buffer.concat(tail).toString('utf8').trimEnd().split('\n').slice(-5).join('\n');
        throw new Error(`process "${step.args.join(' ')}" did not complete successfully: exit code: ${code}${last ? `\n${last}` : ''}`);
      }
      snapshot.release();
      removeMountPoints(snapshot.changes, lower, [...HOST_FILE_MOUNTS, ...mounts.map((m) => m.destination)]);
      return await storeDirectoryAsLayer(this.store.layout.blobs, snapshot.changes, 'overlay-upper', this.sourceDateEpoch);
    } finally {
      try { snapshot.release(); } catch { /* already released */ }
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  close(): void {
    fs.rmSync(this.scratch, { recursive: true, force: true });
  }
}
