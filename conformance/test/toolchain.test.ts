// The whole toolchain: an image built by tsbuild, exported as archives, imported by containerd
// and podman, and run by them with tsrunc as the runtime.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startContainerd } from '../src/containerd.js';
import { TSRUNC } from '../src/harness.js';
import { hasPodman, PODMAN_LIMITS, startPodman } from '../src/podman.js';

const TSBUILD = fileURLToPath(new URL('../../../packages/builder/bin/tsbuild', import.meta.url));

/** Builds a busybox image on scratch with tsbuild and exports it as an OCI and a docker archive. */
function buildArchives(t: { teardown(fn: () => void): void }): { oci: string; docker: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-toolchain-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'ctx'));
  fs.copyFileSync('/bin/busybox', path.join(dir, 'ctx', 'busybox'));
  fs.writeFileSync(path.join(dir, 'ctx', 'Dockerfile'),
    'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\nCMD ["echo", "built by tsbuild, run by tsrunc"]\n');
  const oci = path.join(dir, 'image-oci.tar');
  const docker = path.join(dir, 'image-docker.tar');
  const r = spawnSync(TSBUILD, ['build', '--root', path.join(dir, 'store'), '-t', 'toolchain.test/hello:1',
    '-o', `type=oci-archive,dest=${oci}`, '-o', `type=docker-archive,dest=${docker}`, path.join(dir, 'ctx')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsbuild: ${r.stderr}`);
  return { oci, docker };
}

t.test('ctr image import of a tsbuild OCI archive, run with tsrunc', async (t) => {
  const { oci } = buildArchives(t);
  const containerd = await startContainerd(t);
  const imported = containerd.ctr(['image', 'import', '--index-name', 'toolchain.test/hello:1', oci]);
  t.equal(imported.status, 0, `import: ${imported.stderr}`);
  const run = containerd.ctr(['run', '--rm', '--runc-binary', TSRUNC, 'toolchain.test/hello:1', 'hello']);
  t.equal(run.status, 0, `run: ${run.stderr}`);
  t.equal(run.stdout.trim(), 'built by tsbuild, run by tsrunc');
});

t.test('podman load of a tsbuild docker archive, run with tsrunc', { skip: hasPodman ? false : 'podman is not installed' }, async (t) => {
  const { docker } = buildArchives(t);
  const podman = startPodman(t);
  const loaded = podman(['load', '-i', docker]);
  t.equal(loaded.status, 0, `load: ${loaded.stderr}`);
  const run = podman(['run', '--rm', ...PODMAN_LIMITS, 'toolchain.test/hello:1']);
  t.equal(run.status, 0, `run: ${run.stderr}`);
  t.equal(run.stdout.trim(), 'built by tsbuild, run by tsrunc');
});
