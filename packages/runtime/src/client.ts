// A client for the tsrunc binary, for callers that must run containers in a process of their own
// (the builder's RUN steps: a step's container must not share the builder's signal handling, its
// subreaper status or its crash), as go-runc serves BuildKit for runc.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Features } from '@tsrunc/spec-schemas';
import { StateStore } from './state/store.js';

/** dist/src/client.js -> packages/runtime/bin/tsrunc, the launcher. */
export const TSRUNC_BINARY = fileURLToPath(new URL('../../bin/tsrunc', import.meta.url));

const execFileAsync = promisify(execFile);

export interface TsruncRunOptions {
  /** Where the process' stdout and stderr go: piped to the caller (default) or to fds it gives. */
  stdio?: ['ignore' | 'pipe', 'pipe' | number, 'pipe' | number];
}

export class TsruncClient {
  constructor(readonly root: string, readonly binary: string = TSRUNC_BINARY) {}

  /**
   * `tsrunc run`: the child is the foreground runtime; its exit code is the container process'.
   * The container is killed if this process dies, even by SIGKILL (TSRUNC_KILL_WITH_PARENT).
   */
  run(id: string, bundle: string, options: TsruncRunOptions = {}): ChildProcess {
    return spawn(this.binary, ['--root', this.root, 'run', '--bundle', bundle, id], {
      stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSRUNC_KILL_WITH_PARENT: String(process.pid) },
    });
  }

  async kill(id: string, signal = 'KILL'): Promise<void> {
    await execFileAsync(this.binary, ['--root', this.root, 'kill', id, signal]);
  }

  /**
   * `tsrunc delete --force`, whatever the container's status, if it is still there: a `run` that
   * ran to its end deleted it already, and the call it saves was ~20 ms of every builder RUN step.
   */
  async forceDelete(id: string): Promise<void> {
    if (!fs.existsSync(new StateStore(this.root).dir(id))) return;
    await execFileAsync(this.binary, ['--root', this.root, 'delete', '--force', id]);
  }

  async list(): Promise<string[]> {
    const { stdout } = await execFileAsync(this.binary, ['--root', this.root, 'list', '-q'], { encoding: 'utf8' });
    return stdout.split('\n').filter(Boolean);
  }

  static async features(binary: string = TSRUNC_BINARY): Promise<Features> {
    const { stdout } = await execFileAsync(binary, ['features'], { encoding: 'utf8' });
    return JSON.parse(stdout) as Features;
  }
}
