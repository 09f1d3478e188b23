// The build cache and pushes against a real registry (registry-server.ts: Debian's docker-registry
// behind TLS and htpasswd): --cache-to type=registry pushed beside the image, --cache-from on an
// empty store hitting every step (RUN steps counted by themselves, in the store's cache mount),
// the warnings and errors of an absent or unreachable cache; a large layer pushed in chunks, a
// base's layers mounted from the repository they were pulled from; and what was pushed pulled by
// podman and by containerd (ctr), each with the test's CA, and run by podman.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { counted, runsIn } from './step-counter.js';
import { busyboxProject, count, freePort, project, type Project } from './project.js';
import { clientEnv, PASSWORD, sha256, skopeoInspect, startRegistry, tsbuild, USER, type Registry } from './registry-server.js';

const CACHE_CONFIG = 'application/vnd.buildkit.cacheconfig.v0';
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };
const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';
const builtDigest = (stderr: string) => /built (sha256:[0-9a-f]{64})/.exec(stderr)?.[1];
/** What a push printed: the manifest the registry holds (the built one, its layers gzipped). */
const pushedDigest = (stderr: string) => /pushed \S+@(sha256:[0-9a-f]{64})/.exec(stderr)?.[1];



let registry: Registry;
let env: Record<string, string>;
let app: Project;
let appDigest: string;
let appPushed: string;

t.before(async () => {
  registry = await startRegistry(t);
  env = { ...clientEnv(path.join(registry.dir, 'client')), ...EPOCH };
  const login = tsbuild(['login', '-u', USER, '-p', PASSWORD, registry.host], env);
  if (login.status !== 0) throw new Error(login.stderr);
  app = busyboxProject(t, ['FROM base', counted('one', ' && cat /proc/sys/kernel/random/uuid > /one'), counted('two', ' && echo two > /two')]);
});

t.test('--cache-to type=registry beside --push; a build on an empty store with --cache-from runs no step', async (t) => {
  const cacheRef = `${registry.host}/team/cache:app`;
  const first = app.build(['--progress', 'plain', '-t', `${registry.host}/team/app:1`, '--push', '--cache-to', `type=registry,ref=${cacheRef},mode=max`], env);
  t.equal(first.status, 0, first.stderr);
  t.equal(runsIn(app.root), 'one two');
  appDigest = builtDigest(first.stderr)!;
  appPushed = pushedDigest(first.stderr)!;
  t.equal(sha256(Buffer.from(skopeoInspect(registry, 'team/app:1', ['--raw']))), appPushed, 'the registry holds the manifest the push printed');
  t.match(first.stderr, /exporting cache to .*team\/cache:app/);

  const raw = skopeoInspect(registry, 'team/cache:app', ['--raw']);
  const manifest = JSON.parse(raw);
  t.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  t.equal(manifest.config.mediaType, CACHE_CONFIG, 'the registry holds a BuildKit cache manifest');
  t.equal(manifest.layers.length, 4, 'the layers of the four steps (COPY, RUN, RUN, RUN)');

  const root = path.join(app.dir, 'empty-store');
  const second = app.build(['--root', root, '--progress', 'plain', '-t', 'second:1', '--cache-from', `type=registry,ref=${cacheRef}`], env);
  t.equal(second.status, 0, second.stderr);
  t.equal(count(second.stderr, 'CACHED'), 4, 'every step is CACHED');
  t.equal(runsIn(root), '', 'no RUN step ran');
  t.equal(builtDigest(second.stderr), appDigest, 'the image of the first build, from the cache\'s layers');
  t.ok(registry.requests(/^GET \/v2\/team\/cache\/blobs\/sha256:/) >= 5, 'the config and the layers came from the cache\'s repository');
});

t.test('an absent or unreachable cache is a warning for --cache-from, an error for --cache-to', async (t) => {
  const root = path.join(app.dir, 'store-warn');
  const port = await freePort();
  const r = app.build(['--root', root, '--progress', 'plain', '-t', 'warned:1',
    '--cache-from', `type=registry,ref=${registry.host}/team/cache:none`, '--cache-from', `127.0.0.1:${port}/team/cache:app`], env);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, `WARNING: the cache is not used: ${registry.host}: manifest team/cache:none: not found (MANIFEST_UNKNOWN`);
  t.match(r.stderr, `WARNING: the cache is not used: 127.0.0.1:${port}: connection refused`);
  t.equal(runsIn(root), 'one two', 'the build went on, without a cache');

  const failed = app.build(['--root', root, '--progress', 'plain', '-t', 'warned:1', '--cache-to', `type=registry,ref=127.0.0.1:${port}/team/cache:app`], env);
  t.equal(failed.status, 1);
  t.match(lastLine(failed.stderr), `tsbuild: error: --cache-to 127.0.0.1:${port}/team/cache:app: push 127.0.0.1:${port}/team/cache:app: 127.0.0.1:${port}: connection refused`);
  t.equal(failed.stderr.split('\n').filter((l) => l.startsWith('tsbuild: error')).length, 1, 'one error line');
});

t.test('a large layer goes up in chunks; a base\'s layers are mounted from the repository they came from', async (t) => {
  // 20 MiB that gzip cannot shrink: three chunks of at most 8 MiB.
  const big = project(t, { Dockerfile: `FROM ${registry.host}/team/app:1\nCOPY big /big\n` });
  fs.writeFileSync(path.join(big.dir, 'ctx', 'big'), randomBytes(20 * 1024 * 1024));
  const r = big.build(['--progress', 'plain', '-t', `${registry.host}/team/big:1`, '--push'], env);
  t.equal(r.status, 0, r.stderr);
  const patches = registry.log().split('\n').filter((l) => /"PATCH \/v2\/team\/big\/blobs\/uploads\/[^ ]+ HTTP\/[\d.]+" 202 /.test(l));
  t.equal(patches.length, 3, 'three PATCHes, each acknowledged (202)');
  const pushed = JSON.parse(skopeoInspect(registry, 'team/big:1', ['--raw']));
  const bigLayer = pushed.layers.at(-1);
  t.ok(bigLayer.size > 20 * 1024 * 1024, 'the last layer holds the 20 MiB');
  t.equal(registry.requests(new RegExp(`^PUT /v2/team/big/blobs/uploads/.*digest=${encodeURIComponent(bigLayer.digest)}`)), 1, 'one PUT closes it, naming the digest');

  const base = JSON.parse(skopeoInspect(registry, 'team/app:1', ['--raw']));
  for (const layer of base.layers as { digest: string }[]) {
    const mounted = registry.log().split('\n').filter((l) => l.includes(`POST /v2/team/big/blobs/uploads/?mount=${encodeURIComponent(layer.digest)}&from=team%2Fapp`) && /" 201 /.test(l));
    t.equal(mounted.length, 1, `base layer ${layer.digest.slice(7, 19)} mounted from team/app (201)`);
    t.equal(registry.requests(new RegExp(`^PUT /v2/team/big/blobs/uploads/.*digest=${encodeURIComponent(layer.digest)}`)), 0, 'and never uploaded');
  }
  t.equal(sha256(Buffer.from(skopeoInspect(registry, 'team/big:1', ['--raw']))), pushedDigest(r.stderr), 'the registry holds the pushed manifest');
});

/** A directory with only the registry's CA, as podman's --cert-dir takes it. */
function certDir(): string {
  const dir = path.join(registry.dir, 'podman-certs');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(registry.caFile, path.join(dir, 'ca.crt'));
  return dir;
}

t.test('podman pulls the pushed image with the test\'s CA, and runs it', { skip: spawnSync('podman', ['--version']).status === 0 ? false : 'podman is not installed' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-podman-'));
  const podman = (args: string[]) => spawnSync('podman', [
    '--root', path.join(dir, 'storage'), '--runroot', path.join(dir, 'run'), '--tmpdir', path.join(dir, 'tmp'),
    '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', ...args,
  ], { encoding: 'utf8', timeout: 120_000 });
  t.teardown(() => {
    podman(['rm', '--all', '--force']);
    podman(['system', 'reset', '--force']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ref = `${registry.host}/team/app:1`;
  const pulled = podman(['pull', '--cert-dir', certDir(), '--creds', `${USER}:${PASSWORD}`, ref]);
  t.equal(pulled.status, 0, pulled.stderr);
  const digest = podman(['image', 'inspect', '--format', '{{.Digest}}', ref]);
  t.equal(digest.stdout.trim(), appPushed, 'podman has the manifest tsbuild pushed');
  // runc: this host's cgroups (v1 and a cgroup2 mount) are a hybrid crun refuses.
  const run = podman(['run', '--rm', '--runtime', 'runc', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096', ref, 'cat', '/two']);
  t.equal(run.stdout.trim(), 'two', `podman runs it (stderr: ${run.stderr})`);
});

t.test('containerd (ctr) pulls the pushed image with the test\'s CA', { skip: spawnSync('ctr', ['--version']).status === 0 ? false : 'containerd is not installed' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-containerd-'));
  const socket = path.join(dir, 'containerd.sock');
  fs.writeFileSync(path.join(dir, 'config.toml'), [
    'version = 2', `root = "${dir}/root"`, `state = "${dir}/state"`, 'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '[grpc]', `  address = "${socket}"`, '[ttrpc]', `  address = "${socket}.ttrpc"`, '',
  ].join('\n'));
  const log = fs.openSync(path.join(dir, 'containerd.log'), 'w');
  const daemon = spawn('containerd', ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  t.teardown(async () => {
    if (daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
  t.ok(fs.existsSync(socket), 'containerd listens');
  // containerd's hosts directory: the registry's CA, as ctr --hosts-dir reads it.
  const hosts = path.join(dir, 'hosts', registry.host);
  fs.mkdirSync(hosts, { recursive: true });
  fs.writeFileSync(path.join(hosts, 'hosts.toml'), `server = "https://${registry.host}"\n[host."https://${registry.host}"]\n  ca = "${registry.caFile}"\n`);
  const ctr = (args: string[]) => spawnSync('ctr', ['--address', socket, '--namespace', 'tsbuild-test', ...args], { encoding: 'utf8', timeout: 120_000 });
  const ref = `${registry.host}/team/app:1`;
  const pulled = ctr(['image', 'pull', '--hosts-dir', path.join(dir, 'hosts'), '--user', `${USER}:${PASSWORD}`, ref]);
  t.equal(pulled.status, 0, pulled.stderr);
  const listed = ctr(['image', 'ls']);
  t.match(listed.stdout, new RegExp(`${ref.replace(/[.]/g, '\\.')}\\s+application/vnd\\.oci\\.image\\.manifest\\.v1\\+json\\s+${appPushed}`), 'ctr has the pushed manifest');
  const check = ctr(['image', 'check']);
  t.match(check.stdout, /complete \(\d+\/\d+\)/, `every blob is there (${check.stdout})`);
});
