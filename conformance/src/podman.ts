// podman with tsrunc as its OCI runtime, on a storage and run root of the test's own, all of it
// (containers, images, mounts, the cgroupfs parent) removed at the test's end.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeCgroup, unmountUnder } from './cleanup.js';
import { TSRUNC, type Teardown } from './harness.js';

export const hasPodman = spawnSync('podman', ['--version']).status === 0;

/**
 * podman asks for RLIMIT_NOFILE/NPROC far above this machine's hard limits; raising them needs
 * CAP_SYS_RESOURCE, which this machine's root may lack (runc fails the same way): ask for less.
 */
export const PODMAN_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096'];

export type Podman = (args: string[]) => { status: number | null; stdout: string; stderr: string };

export function startPodman(t: Teardown): Podman {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-podman-'));
  const podman: Podman = (args) => spawnSync('podman', [
    // podman's tmpdir (default /run/libpod) too: `system reset` removes it, and a peer test may be using the default.
    '--root', path.join(dir, 'storage'), '--runroot', path.join(dir, 'run'), '--tmpdir', path.join(dir, 'tmp'),
    '--cgroup-manager', 'cgroupfs',
    '--runtime', TSRUNC, ...args,
  ], { encoding: 'utf8', timeout: 120_000 });
  t.teardown(() => {
    podman(['rm', '--all', '--force']);
    podman(['system', 'reset', '--force']);
    unmountUnder(dir);
    // With the cgroupfs manager, podman puts conmon and containers under this parent and leaves it.
    removeCgroup('libpod_parent');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return podman;
}
