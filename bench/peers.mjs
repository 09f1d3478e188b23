// The peers the builder benches compare tsbuild with, started and stopped by the bench: a private
// dockerd (Debian's docker.io, BuildKit inside: its own data root, exec root, socket and client
// config, no bridge, no iptables, as conformance/src/dockerd.ts starts it), buildah on a store of
// its own (runc, as its crun refuses this host's hybrid cgroups), and a plain-http
// docker-registry on 127.0.0.1. Every one removes what it made when stopped.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TSBUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../packages/builder/bin/tsbuild');
const DOCKER = '/usr/bin/docker';

/** Runs a command to its end; its stdout, or an error with the end of its output. */
export function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${(r.stderr || r.stdout || r.error?.message || '').trim().split('\n').slice(-8).join('\n')}`);
  return r.stdout;
}

/** Milliseconds a command takes (it must succeed). */
export function time(command, args, options = {}) {
  const start = process.hrtime.bigint();
  run(command, args, options);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Unmounts everything mounted below `dir`, deepest first. */
function unmountUnder(dir) {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m?.startsWith(`${dir}/`));
  for (const m of mounts.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
}

/** A private dockerd under `dir`; `docker(args)` runs Debian's client (of the daemon's version) against it. */
export async function startDockerd(dir) {
  fs.mkdirSync(path.join(dir, 'client'), { recursive: true });
  const socket = path.join(dir, 'docker.sock');
  fs.writeFileSync(path.join(dir, 'daemon.json'), '{"features": {"buildkit": true}}\n');
  const log = fs.openSync(path.join(dir, 'dockerd.log'), 'w');
  const daemon = spawn('/usr/sbin/dockerd', [
    '--config-file', path.join(dir, 'daemon.json'), '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'),
    '-H', `unix://${socket}`, '--pidfile', path.join(dir, 'docker.pid'), '--bridge', 'none', '--iptables=false',
  ], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const env = { ...process.env, DOCKER_CONFIG: path.join(dir, 'client'), DOCKER_BUILDKIT: '1' };
  const docker = (args) => [DOCKER, ['-H', `unix://${socket}`, ...args], { env }];
  const stop = async () => {
    if (daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => (daemon.exitCode !== null ? r() : daemon.once('exit', r)));
    }
    unmountUnder(dir);
    for (const v of ['', 'cpu,cpuacct', 'memory', 'pids', 'blkio', 'devices', 'freezer']) spawnSync('rmdir', [`/sys/fs/cgroup/${v}${v ? '/' : ''}docker`]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 150; i++) {
    if (spawnSync(...docker(['version'])).status === 0) return { docker, stop };
    if (daemon.exitCode !== null) break;
    await sleep(200);
  }
  await stop();
  throw new Error('dockerd did not start');
}

/**
 * buildah on the store `store`, its temporary files (and so its RUN cache mounts, which it keeps
 * under $TMPDIR/buildah-cache, out of the store) in `${store}-tmp`: a reset forgets them too.
 */
export function buildah(store) {
  return (args) => {
    fs.mkdirSync(`${store}-tmp`, { recursive: true });
    return ['buildah', ['--root', store, '--runroot', `${store}-run`, ...args], { env: { ...process.env, TMPDIR: `${store}-tmp` } }];
  };
}

export function removeBuildahStore(store) {
  spawnSync(...buildah(store)(['rm', '--all']));
  spawnSync(...buildah(store)(['rmi', '--all', '--force']));
  unmountUnder(store);
  unmountUnder(`${store}-run`);
  fs.rmSync(store, { recursive: true, force: true });
  fs.rmSync(`${store}-run`, { recursive: true, force: true });
  fs.rmSync(`${store}-tmp`, { recursive: true, force: true });
}

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** Debian's docker-registry, plain http on 127.0.0.1, storage under `dir`; `host` is 127.0.0.1:PORT. */
export async function startRegistry(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'config.yml'), [
    'version: 0.1', 'log:', '  level: error', 'storage:', `  filesystem:`, `    rootdirectory: ${path.join(dir, 'storage')}`,
    'http:', `  addr: 127.0.0.1:${port}`, '',
  ].join('\n'));
  const child = spawn('/usr/bin/docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (up) return { host: `127.0.0.1:${port}`, stop };
    await sleep(100);
  }
  await stop();
  throw new Error('docker-registry did not listen');
}

/**
 * bench/package-cache.mjs, a caching HTTP proxy for apt, in a process of its own (the benches
 * wait on their builds synchronously); stopped, it forgets what it kept.
 */
export async function startPackageCache() {
  const proxy = spawn(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'package-cache.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    proxy.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.trim());
    });
    proxy.on('exit', (code) => reject(new Error(`bench/package-cache.mjs exited with ${code}`)));
  });
  const stop = async () => {
    if (proxy.exitCode === null) {
      proxy.kill('SIGTERM');
      await new Promise((r) => (proxy.exitCode !== null ? r() : proxy.once('exit', r)));
    }
  };
  return { url, stop };
}
