// A private containerd for tests: its own root, state and socket under a temp dir, the CRI plugin
// off, stopped and removed at the test's end. Images come from OCI layouts built by umoci.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeBusyboxRootfs } from '@tsrunc/runtime/testing';
import { removeCgroup, unmountUnder } from './cleanup.js';
import type { Teardown } from './harness.js';

/** containerd's namespace for the test's images and containers, of this test process alone. */
const NAMESPACE = `tsrunc-conf-${process.pid}`;

export interface Containerd {
  socket: string;
  ctr(args: string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startContainerd(t: Teardown): Promise<Containerd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-containerd-'));
  const socket = path.join(dir, 'containerd.sock');
  const config = path.join(dir, 'config.toml');
  fs.writeFileSync(config, [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]',
    `  address = "${socket}"`,
    '[ttrpc]',
    `  address = "${socket}.ttrpc"`,
    '',
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'containerd.log'), 'w');
  const daemon: ChildProcess = spawn('containerd', ['--config', config], { stdio: ['ignore', log, log] });
  t.teardown(async () => {
    daemon.kill('SIGTERM');
    await new Promise((r) => (daemon.exitCode !== null ? r(null) : daemon.once('exit', r)));
    // Snapshot mounts of a crashed task would survive the daemon: unmount anything under dir.
    unmountUnder(dir);
    // The shim puts each task's cgroup under one named after the namespace, and leaves it.
    removeCgroup(NAMESPACE);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await sleep(100);
  if (!fs.existsSync(socket)) throw new Error(`containerd did not start: ${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-2000)}`);
  return {
    socket,
    ctr: (args, timeoutMs = 60_000) => {
      const r = spawnSync('ctr', ['--address', socket, '--namespace', NAMESPACE, ...args], { encoding: 'utf8', timeout: timeoutMs });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

let layouts = 0;

/** An OCI layout holding a busybox image tagged `ref`, made with umoci from the project's own rootfs. */
export function busyboxLayout(t: Teardown, ref: string): string {
  // Lower case only: podman reads `oci:PATH` as an image name, which may not have capitals.
  const dir = path.join(os.tmpdir(), `tsrunc-conf-image-${process.pid}-${++layouts}`);
  fs.mkdirSync(dir);
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const layout = path.join(dir, 'layout');
  const rootfs = makeBusyboxRootfs(path.join(dir, 'rootfs'));
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  };
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:${ref}`]);
  run('umoci', ['insert', '--image', `${layout}:${ref}`, rootfs, '/']);
  run('umoci', ['config', '--image', `${layout}:${ref}`, '--config.cmd', 'sh']);
  return layout;
}

/** The same image as an OCI archive (a tar of the layout), as `ctr image import` takes it. */
export function busyboxArchive(t: Teardown, ref: string): string {
  const layout = busyboxLayout(t, ref);
  const archive = path.join(path.dirname(layout), 'image.tar');
  const r = spawnSync('tar', ['-C', layout, '-cf', archive, '.'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar ${layout}: ${r.stderr}`);
  return archive;
}
