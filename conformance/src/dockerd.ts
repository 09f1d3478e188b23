// A private dockerd (Debian's docker.io) for tests: its own data-root, exec-root, socket, pidfile
// and client config under a temp dir, no bridge and no iptables, tsrunc added as a runtime beside
// the built-in runc. Stopped, and everything it made (containers, mounts, cgroups, files)
// removed, at the test's end.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxRootfs } from '@tsrunc/runtime/testing';
import { removeCgroup, unmountUnder } from './cleanup.js';
import { TSRUNC, type Teardown } from './harness.js';

const DOCKERD = '/usr/sbin/dockerd';
/** Debian's client, of the daemon's version (another docker on PATH may be newer). */
const DOCKER = '/usr/bin/docker';
export const TSBUILD = fileURLToPath(new URL('../../../packages/builder/bin/tsbuild', import.meta.url));

export interface DockerResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Dockerd {
  docker(args: string[], timeoutMs?: number): DockerResult;
  /** A directory under the daemon's temp dir, removed with it. */
  scratch(name: string): string;
}

export const hasDockerd = fs.existsSync(DOCKERD) && fs.existsSync(DOCKER);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the daemon; resolves to { skip: reason } if it cannot start on this machine. */
export async function startDockerd(t: Teardown): Promise<Dockerd | { skip: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-dockerd-'));
  fs.chmodSync(dir, 0o755);
  const socket = path.join(dir, 'docker.sock');
  fs.writeFileSync(path.join(dir, 'daemon.json'), '{}\n');
  fs.mkdirSync(path.join(dir, 'client'));
  const log = fs.openSync(path.join(dir, 'dockerd.log'), 'w');
  const daemon = spawn(DOCKERD, [
    '--config-file', path.join(dir, 'daemon.json'),
    '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'),
    '-H', `unix://${socket}`, '--pidfile', path.join(dir, 'docker.pid'),
    '--bridge', 'none', '--iptables=false',
    '--add-runtime', `tsrunc=${TSRUNC}`,
  ], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const docker: Dockerd['docker'] = (args, timeoutMs = 60_000) => {
    const r = spawnSync(DOCKER, ['-H', `unix://${socket}`, ...args], {
      // DOCKER_BUILDKIT: `docker build` is BuildKit's, the builder tsbuild is compared with.
      encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, DOCKER_CONFIG: path.join(dir, 'client'), DOCKER_BUILDKIT: '1' },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  t.teardown(async () => {
    if (daemon.exitCode === null) {
      const ids = docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) docker(['rm', '-f', '-v', ...ids]);
      daemon.kill('SIGTERM');
      await new Promise((r) => (daemon.exitCode !== null || daemon.signalCode !== null ? r(null) : daemon.once('exit', r)));
    }
    // The overlay mounts of containers, and the netns/default bind dockerd leaves behind.
    unmountUnder(dir);
    removeCgroup('docker');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 150 && docker(['version']).status !== 0; i++) {
    if (daemon.exitCode !== null) break;
    await sleep(200);
  }
  if (docker(['version']).status !== 0) {
    const tail = fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').trim().split('\n').slice(-3).join(' | ');
    return { skip: `dockerd did not start: ${tail}` };
  }
  return {
    docker,
    scratch: (name) => {
      const d = path.join(dir, name);
      fs.mkdirSync(d, { recursive: true });
      return d;
    },
  };
}

/** Loads a busybox image, built by tsbuild as a docker archive (FROM scratch, the project's rootfs), as `ref`. */
export function loadBusybox(d: Dockerd, ref: string): void {
  const context = d.scratch('image-context');
  makeBusyboxRootfs(path.join(context, 'rootfs'));
  fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["sh"]\n');
  const archive = path.join(d.scratch('image'), 'busybox.tar');
  const build = spawnSync(TSBUILD, ['build', '--root', d.scratch('tsbuild-store'), '-t', ref, '-o', `type=docker-archive,dest=${archive}`, context], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`tsbuild: ${build.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const load = d.docker(['load', '-i', archive]);
  if (load.status !== 0) throw new Error(`docker load: ${load.stderr.trim()}`);
}
