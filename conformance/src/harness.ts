// The conformance suite's tools: bundles on a busybox rootfs, and tsrunc (or runc, the oracle)
// run against a state root of the test's own, with everything removed at the test's end.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Spec } from '@tsrunc/spec-schemas';
import { defaultSpec, TSRUNC_BINARY } from '@tsrunc/runtime';
import { makeBusyboxRootfs } from '@tsrunc/runtime/testing';

export const TSRUNC = TSRUNC_BINARY;
export const RUNC = '/usr/sbin/runc';

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

let template: string | undefined;

/** A busybox rootfs made once per test process and copied (cp -a keeps the applet links). */
function rootfsTemplate(): string {
  if (!template) {
    template = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-rootfs-'));
    // mkdtemp makes 0700; a container's "/" must be reachable by its non-root users.
    fs.chmodSync(template, 0o755);
    makeBusyboxRootfs(template);
    process.on('exit', () => fs.rmSync(template!, { recursive: true, force: true }));
  }
  return template;
}

/** The config tests start from: runc's default, without a terminal, running `args`. */
export function baseSpec(args: string[]): Spec {
  const spec = defaultSpec(false);
  spec.process!.terminal = false;
  spec.process!.args = args;
  spec.root!.readonly = false;
  return spec;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  writeConfig(spec: Spec): void;
}

export function makeBundle(t: Teardown, spec: Spec): Bundle {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-bundle-'));
  // Reachable by a user namespace's mapped root too, as a bundle must be for runc.
  fs.chmodSync(dir, 0o755);
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const rootfs = path.join(dir, 'rootfs');
  const copy = spawnSync('cp', ['-a', rootfsTemplate(), rootfs]);
  if (copy.status !== 0) throw new Error(`cp rootfs: ${copy.stderr}`);
  const bundle = { dir, rootfs, writeConfig: (s: Spec) => fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(s, null, 2)) };
  bundle.writeConfig(spec);
  return bundle;
}

export interface Runtime {
  name: string;
  root: string;
  call(args: string[], options?: { input?: string; timeoutMs?: number; cwd?: string }): SpawnSyncReturns<string>;
}

let counter = 0;

/** A unique container ID for this test process. */
export function uniqueId(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

/** tsrunc or runc with a --root of the test's own; the teardown force-deletes what is left. */
export function runtime(t: Teardown, binary: string = TSRUNC): Runtime {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-root-'));
  const name = path.basename(binary);
  // Output goes to files, not pipes: a created container's init inherits them and would keep a
  // pipe open long after the runtime exits (containerd hands runc fifos for the same reason).
  const outputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-out-'));
  let calls = 0;
  const call: Runtime['call'] = (args, options = {}) => {
    const files = ['stdout', 'stderr'].map((name) => path.join(outputDir, `${++calls}.${name}`));
    const fds = files.map((file) => fs.openSync(file, 'w'));
    try {
      const r = spawnSync(binary, ['--root', root, ...args], {
        encoding: 'utf8',
        input: options.input ?? '',
        stdio: ['pipe', fds[0]!, fds[1]!],
        timeout: options.timeoutMs ?? 30_000,
        cwd: options.cwd,
      });
      return { ...r, stdout: fs.readFileSync(files[0]!, 'utf8'), stderr: fs.readFileSync(files[1]!, 'utf8') };
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
  };
  t.teardown(() => {
    for (const id of fs.existsSync(root) ? fs.readdirSync(root) : []) call(['delete', '--force', id]);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outputDir, { recursive: true, force: true });
  });
  return { name, root, call };
}
