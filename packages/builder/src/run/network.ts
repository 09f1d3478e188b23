// The network of a RUN step. By default a namespace of its own reaching out through slirp4netns,
// as rootless BuildKit and buildah give it: a user-mode TCP/IP stack behind a tap device, NAT to
// the outside, a DNS forwarder at 10.0.2.3, and no way to the host's loopback, so services bound
// to the host's 127.0.0.1 and the host's interfaces stay out of the step's reach. --network=none:
// a namespace with loopback only. --network=host (an entitlement): the host's namespace.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Mount } from '@tsrunc/spec-schemas';
import { unmount } from './mount.js';
import { extraHostLines, type ExtraHost } from './step-options.js';

export type NetworkMode = 'default' | 'none' | 'host';

/** The files a step's name resolution reads; mount points, never part of its layer. */
export const NETWORK_FILES = ['/etc/resolv.conf', '/etc/hosts'];

/** slirp4netns's fixed addresses: the step is 10.0.2.100 behind the gateway 10.0.2.2. */
const SLIRP_DNS = '10.0.2.3';
/** As BuildKit writes it: the sandbox's name and localhost on loopback. */
const HOSTS = '127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n';
/** slirp4netns's start-up: opening the tap device in the namespace and configuring it. */
const SLIRP_START_MS = 10_000;

export interface StepNetwork {
  /** The network namespace the step joins (a bind-mounted nsfs file); none: the host's. */
  namespace?: string;
  /** /etc/resolv.conf and /etc/hosts, read-only. */
  mounts: Mount[];
  close(): Promise<void>;
}

function readOnlyFile(destination: string, source: string): Mount {
  return { destination, type: 'bind', source, options: ['rbind', 'ro'] };
}

/**
 * A new network namespace, kept alive by a bind mount on `file` (so that the step joins it by
 * path, and slirp4netns can be attached before the step starts), with loopback up, as runc and
 * BuildKit bring it up in a new one.
 */
async function newNamespace(file: string): Promise<void> {
  fs.writeFileSync(file, '');
  try {
    await promisify(execFile)('unshare', [`--net=${file}`, 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    // unshare may have bound the namespace before `ip` failed.
    try { unmount(file); } catch { /* not bound: unshare failed before that */ }
    throw new Error(`cannot make the step's network namespace: ${stderr?.trim() || message}`);
  }
}

/**
 * slirp4netns on the namespace: tap0 configured (10.0.2.100, default route via 10.0.2.2), no route
 * to the host's loopback. It exits when its exit fd closes, which happens when this process ends
 * however it ends. Resolves once the interface is up.
 */
async function attachSlirp(namespace: string): Promise<ChildProcess> {
  const child = spawn('slirp4netns', ['--configure', '--mtu=65520', '--disable-host-loopback', '--netns-type=path',
    '--ready-fd=3', '--exit-fd=4', namespace, 'tap0'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const ready = child.stdio[3] as Readable;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after ${SLIRP_START_MS / 1000}s`)), SLIRP_START_MS);
      const settle = (err?: Error) => { clearTimeout(timer); if (err) reject(err); else resolve(); };
      ready.once('data', () => settle());
      child.once('error', (err) => settle(err));
      child.once('exit', (code) => settle(new Error(stderr.trim().split('\n').pop() || `exit code ${code}`)));
    });
  } catch (err) {
    await stopSlirp(child);
    throw err;
  }
  child.stderr!.removeAllListeners('data').resume();
  return child;
}

async function stopSlirp(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Said once per build: a step without slirp4netns cannot reach out, which may surprise an apt-get. */
let fallbackStated = false;

/**
 * The network for a step of `mode`; `dir` is the step's own directory (its bundle), `note` puts a
 * line in the build's output, `extraHosts` are --add-host's lines for /etc/hosts. close() stops slirp4netns and releases the namespace.
 */
export async function openStepNetwork(mode: NetworkMode, dir: string, note: (line: string) => void, extraHosts: ExtraHost[] = []): Promise<StepNetwork> {
  if (mode === 'host') {
    // The host's files; /etc/hosts a copy of the host's when --add-host adds to it.
    const mounts = NETWORK_FILES.filter((file) => fs.existsSync(file)).map((file) => {
      if (file !== '/etc/hosts' || extraHosts.length === 0) return readOnlyFile(file, file);
      fs.writeFileSync(path.join(dir, 'hosts'), fs.readFileSync(file, 'utf8').replace(/([^\n])$/, '$1\n') + extraHostLines(extraHosts));
      return readOnlyFile(file, path.join(dir, 'hosts'));
    });
    return { mounts, close: async () => {} };
  }
  const namespace = path.join(dir, 'netns');
  await newNamespace(namespace);
  let slirp: ChildProcess | undefined;
  const release = async () => {
    if (slirp) await stopSlirp(slirp);
    unmount(namespace);
  };
  try {
    fs.writeFileSync(path.join(dir, 'hosts'), HOSTS + extraHostLines(extraHosts));
    const mounts = [readOnlyFile('/etc/hosts', path.join(dir, 'hosts'))];
    if (mode === 'default') {
      try {
        slirp = await attachSlirp(namespace);
        fs.writeFileSync(path.join(dir, 'resolv.conf'), `nameserver ${SLIRP_DNS}\n`);
        mounts.push(readOnlyFile('/etc/resolv.conf', path.join(dir, 'resolv.conf')));
      } catch (err) {
        if (!fallbackStated) note(`slirp4netns is not usable (${(err as Error).message}): RUN steps get a network namespace with loopback only`);
        fallbackStated = true;
      }
    }
    return { namespace, mounts, close: release };
  } catch (err) {
    await release();
    throw err;
  }
}
