// Runs one RUN step's process in a container through tsrunc, as buildah does with runc: a bundle
// whose root is the step's snapshot, the process of the step, and the mounts RUN asked for, in
// BuildKit's sandbox: docker's default capabilities and a seccomp filter (unless insecure), and a
// network namespace of its own (unless --network=host).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LinuxSeccomp, Mount, Spec } from '@tsrunc/spec-schemas';
import { boundingCapabilities, defaultSpec } from '@tsrunc/runtime';
import { openStepNetwork, type NetworkMode, type StepNetwork } from './network.js';
import { runSeccompProfile } from './seccomp-profile.js';
import { applyStepOptions, type StepOptions } from './step-options.js';
import { tsruncClient, tsruncFeatures } from './tsrunc-client.js';

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
  /** --add-host, --ulimit and --shm-size of the build. */
  options?: StepOptions;
  /** The step's output, stdout and stderr interleaved, as it comes. */
  onOutput(chunk: Buffer): void;
  signal?: AbortSignal;
}

/** Docker's default capability set, which BuildKit gives RUN steps. */
const BUILD_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE'];

/** What the step's container gets beside the request: its network and its seccomp filter (none when insecure). */
export interface StepSandbox {
  /** The network namespace to join; undefined: the host's. */
  netns?: string;
  /** /etc/resolv.conf and /etc/hosts for the step's network. */
  networkFiles: Mount[];
  seccomp?: LinuxSeccomp;
}

function buildStepSpec(req: RunContainerRequest, sandbox: StepSandbox): Spec {
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
  linux.namespaces = linux.namespaces!.filter((ns) => ns.type !== 'network');
  if (sandbox.netns) linux.namespaces.push({ type: 'network', path: sandbox.netns });
  if (sandbox.seccomp) linux.seccomp = sandbox.seccomp;
  if (req.insecure) {
    linux.maskedPaths = [];
    linux.readonlyPaths = [];
  }
  spec.mounts = [...spec.mounts!.filter((m) => m.type !== 'cgroup'), ...sandbox.networkFiles, ...req.mounts];
  if (req.options) applyStepOptions(spec, req.options);
  return spec;
}

let seccompProfile: Promise<LinuxSeccomp> | undefined;

/** The RUN profile for what this tsrunc supports, asked once per build. */
function runtimeSeccompProfile(): Promise<LinuxSeccomp> {
  seccompProfile ??= tsruncFeatures().then((features) => runSeccompProfile(features.linux?.seccomp));
  return seccompProfile;
}

let sequence = 0;

/**
 * tsrunc's state root for RUN containers, under the build's TMPDIR: where the next tsbuild finds
 * (and deletes) the containers of a build that was killed while they ran (engine/run-record.ts).
 */
export const CONTAINER_STATE_DIR = 'tsrunc';

/** Runs the step; resolves to its exit code. The container is deleted whatever happens. */
export async function runInContainer(req: RunContainerRequest): Promise<number> {
  const stateRoot = path.join(os.tmpdir(), CONTAINER_STATE_DIR);
  // --security=insecure is unconfined, as BuildKit runs it: no filter at all.
  const seccomp = req.insecure ? undefined : await runtimeSeccompProfile();
  const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-run-'));
  const id = `tsbuild-${process.pid}-${++sequence}`;
  const tsrunc = tsruncClient(stateRoot);
  let network: StepNetwork | undefined;
  try {
    network = await openStepNetwork(req.network, bundle, (line) => req.onOutput(Buffer.from(`${line}\n`)), req.options?.extraHosts);
    const sandbox: StepSandbox = { networkFiles: network.mounts, ...(network.namespace ? { netns: network.namespace } : {}), ...(seccomp ? { seccomp } : {}) };
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(buildStepSpec(req, sandbox)));
    // Cancelled while the bundle was made: the step never starts.
    req.signal?.throwIfAborted();
    return await new Promise<number>((resolve, reject) => {
      const child = tsrunc.run(id, bundle);
      child.stdout!.on('data', req.onOutput);
      child.stderr!.on('data', req.onOutput);
      let closed = false;
      // tsrunc may still be creating the container, which kill then does not find: it is tried
      // again until the container is killed or tsrunc has exited.
      const abort = () => void tsrunc.kill(id).catch(() => { if (!closed) setTimeout(abort, 100); });
      req.signal?.addEventListener('abort', abort, { once: true });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        closed = true;
        req.signal?.removeEventListener('abort', abort);
        resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
      });
    });
  } finally {
    await tsrunc.forceDelete(id).catch(() => { /* reported by the next build's sweep, if anything is left */ });
    await network?.close();
    fs.rmSync(bundle, { recursive: true, force: true });
  }
}
