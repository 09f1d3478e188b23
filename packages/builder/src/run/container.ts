// Runs one RUN step's process in a container through tsrunc, as buildah does with runc: a bundle
// whose root is the step's snapshot, the process of the step, and the mounts RUN asked for.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mount, Spec } from '@tsrunc/spec-schemas';
import { defaultSpec } from '@tsrunc/runtime/container/spec-template';
import { boundingCapabilities } from '@tsrunc/runtime/process/capability-names';

export const TSRUNC = fileURLToPath(new URL('../../../../runtime/bin/tsrunc', import.meta.url));

export type NetworkMode = 'default' | 'none' | 'host';

export interface RunContainerRequest {
  /** The step's root filesystem, already assembled (an overlay mount or a copy). */
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  network: NetworkMode;
  /** --security=insecure: all capabilities, no seccomp, no masked paths. */
  insecure: boolean;
  mounts: Mount[];
  /** The step's output, stdout and stderr interleaved, as it comes. */
  onOutput(chunk: Buffer): void;
  signal?: AbortSignal;
}

/** Docker's default capability set, which BuildKit gives RUN steps. */
const BUILD_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE'];

/** The host's name resolution, bound read-only, as BuildKit provides it to RUN steps with a network. */
export const HOST_FILE_MOUNTS = ['/etc/resolv.conf', '/etc/hosts'];

export function buildStepSpec(req: RunContainerRequest): Spec {
  const spec = defaultSpec(false);
  // Insecure: every capability this process holds, as a privileged container gets.
  const caps = req.insecure ? boundingCapabilities() : BUILD_CAPS;
  spec.process = {
    terminal: false,
    user: { uid: req.uid, gid: req.gid, additionalGids: req.additionalGids },
    args: req.args,
    env: req.env,
    cwd: req.cwd,
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    noNewPrivileges: false,
  };
  spec.root = { path: req.rootfs, readonly: false };
  spec.hostname = 'buildkitsandbox';
  const linux = spec.linux!;
  linux.resources = undefined;
  if (req.network !== 'none') linux.namespaces = linux.namespaces!.filter((ns) => ns.type !== 'network');
  if (req.insecure) {
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
  }
  const hostFiles: Mount[] = req.network === 'none' ? [] : HOST_FILE_MOUNTS
    .filter((file) => fs.existsSync(file))
    .map((file) => ({ destination: file, type: 'bind', source: file, options: ['rbind', 'ro'] }));
  spec.mounts = [...spec.mounts!.filter((m) => m.type !== 'cgroup'), ...hostFiles, ...req.mounts];
  return spec;
}

let sequence = 0;

/** Runs the step; resolves to its exit code. The container is deleted whatever happens. */
export async function runInContainer(req: RunContainerRequest, stateRoot: string): Promise<number> {
  const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-run-'));
  const id = `tsbuild-${process.pid}-${++sequence}`;
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(buildStepSpec(req)));
  const tsrunc = (args: string[]) => spawn(TSRUNC, ['--root', stateRoot, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = tsrunc(['run', '--bundle', bundle, id]);
      child.stdout!.on('data', req.onOutput);
      child.stderr!.on('data', req.onOutput);
      const abort = () => tsrunc(['kill', id, 'KILL']);
      req.signal?.addEventListener('abort', abort, { once: true });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        req.signal?.removeEventListener('abort', abort);
        resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
      });
    });
  } finally {
    await new Promise((resolve) => tsrunc(['delete', '--force', id]).on('close', resolve));
    fs.rmSync(bundle, { recursive: true, force: true });
  }
}
