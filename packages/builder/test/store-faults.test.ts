// The store under faults and concurrency, through the real tsbuild CLI: builds running at once into
// one store, blobs corrupted on disk on every path that reads them, a full (and a read-only) disk
// under the store, and a build killed with SIGKILL in the middle of a RUN step.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { OciLayout, writeDockerArchive, writeOciArchive } from '../src/image/layout.js';
import { sha256Digest } from '../src/image/store.js';
import { busyboxProject, count, project, TSBUILD, TSRUNC, type Project } from './project.js';

interface Outcome { status: number | null; stderr: string }

/** A build of `p` run in the background, as several at once are. */
function buildAsync(p: Project, args: string[]): Promise<Outcome> {
  const child = spawn(TSBUILD, ['build', '--root', p.root, ...args, path.join(p.dir, 'ctx')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: p.tmpdir } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stderr })));
}

function tagsOf(p: Project): string[] {
  const index = JSON.parse(fs.readFileSync(path.join(p.root, 'layout', 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  return index.manifests.map((d) => d.annotations?.['org.opencontainers.image.ref.name'] ?? '').sort();
}

const blobPath = (root: string, digest: string) => path.join(root, 'layout', 'blobs', 'sha256', digest.slice(7));

/** The layer digests of the image tagged `ref` in the store at `root`, base first. */
function layersOf(root: string, ref: string): string[] {
  const index = JSON.parse(fs.readFileSync(path.join(root, 'layout', 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const d = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref)!;
  return (JSON.parse(fs.readFileSync(blobPath(root, d.digest), 'utf8')) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
}

/** The layer digests of the one image of an OCI layout directory, base first. */
function layersOfLayout(dir: string): string[] {
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = path.join(dir, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7));
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
}

/** Every blob of an OCI layout directory hashes to its name. */
function allIntact(dir: string): boolean {
  const blobs = path.join(dir, 'blobs', 'sha256');
  return fs.readdirSync(blobs).every((hex) => sha256Digest(fs.readFileSync(path.join(blobs, hex))) === `sha256:${hex}`);
}

/** The error lines of a failed tsbuild: exactly one, and no stack trace anywhere. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('tsbuild: error:') || /^\s+at .+:\d+:\d+\)?$/.test(line) || line.includes("Emitted 'error' event"));
}

const corruptions: Record<string, (file: string) => void> = {
  'a flipped byte': (file) => {
    const buf = fs.readFileSync(file);
    buf[Math.floor(buf.length / 2)]! ^= 0xff;
    fs.writeFileSync(file, buf);
  },
  'a truncation': (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2)),
  // A blob that still reads: bytes 4-7 are a gzip header's mtime (a pulled layer), or part of the
  // first entry's name in a tar (a layer a build made, kept uncompressed).
  'a changed header': (file) => {
    const buf = fs.readFileSync(file);
    buf.writeUInt32LE(0x5eadbeef, 4);
    fs.writeFileSync(file, buf);
  },
};

t.test('eight tagged builds at once into one new store keep all 24 tags', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nARG N\nCOPY file /file-$N\n', file: 'content\n' });
  const builds = await Promise.all([...Array(8).keys()].map((n) => buildAsync(p, ['--build-arg', `N=${n}`, '-t', `a${n}:1`, '-t', `b${n}:1`, '-t', `c${n}:1`])));
  for (const [n, b] of builds.entries()) t.equal(b.status, 0, `build ${n}: ${b.stderr}`);
  const expected = [...Array(8).keys()].flatMap((n) => [`a${n}:1`, `b${n}:1`, `c${n}:1`]).sort();
  t.same(tagsOf(p), expected, 'every tag of every build is in index.json');
});

t.test('four different builds at once keep every cache entry: each rebuild is fully cached', async (t) => {
  const p = busyboxProject(t, ['FROM base', 'ARG N', 'RUN echo "$N" > /n', 'RUN cat /n /n > /nn']);
  const args = (n: number) => ['--build-arg', `N=${n}`, '-t', `n${n}:1`];
  const first = await Promise.all([1, 2, 3, 4].map((n) => buildAsync(p, args(n))));
  for (const b of first) t.equal(b.status, 0, b.stderr);
  const again = await Promise.all([1, 2, 3, 4].map((n) => buildAsync(p, args(n))));
  for (const [i, b] of again.entries()) {
    t.equal(b.status, 0, b.stderr);
    t.equal(count(b.stderr, 'CACHED'), 4, `rebuild ${i + 1}: base COPY and RUN and both RUN steps are cache hits`);
  }
  t.equal(fs.readFileSync(path.join(p.unpack('n3:1'), 'nn'), 'utf8'), '3\n3\n', 'each build has its own result');
});

t.test('prune waits for the builds running on the store: it removes no blob they are about to tag', async (t) => {
  const p = busyboxProject(t, ['FROM base', 'RUN echo step is running; sleep 2; echo done > /done']);
  const child = spawn(TSBUILD, ['build', '--root', p.root, '-t', 'busy:1', path.join(p.dir, 'ctx')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: p.tmpdir } });
  let stderr = '';
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); if (/ step is running$/m.test(stderr)) resolve(); }));
  // Everything the build has made so far is in no tag yet, and --all drops the cache that names it.
  const pruned = spawnSync(TSBUILD, ['prune', '--all', '--root', p.root], { encoding: 'utf8' });
  t.equal(pruned.status, 0, pruned.stderr);
  t.match(pruned.stderr, 'tsbuild: waiting for the builds running on this store to finish');
  t.equal(await closed, 0, stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('busy:1'), 'done'), 'utf8'), 'done\n', 'the build tagged a whole image');
});

for (const [name, corrupt] of Object.entries(corruptions)) {
  t.test(`a cached layer with ${name} is a cache miss: the step runs again, nothing corrupt is exported`, async (t) => {
    const p = busyboxProject(t, ['FROM base', 'RUN echo built >> /log']);
    const first = p.build(['-t', 'img:1']);
    t.equal(first.status, 0, first.stderr);
    const runLayer = layersOf(p.root, 'img:1').at(-1)!;
    corrupt(blobPath(p.root, runLayer));
    const out = path.join(p.dir, 'out');
    const again = p.build(['-t', 'img:1', '-o', `type=oci,dest=${out}`, '-o', `type=docker-archive,dest=${p.dir}/img.tar`]);
    t.equal(again.status, 0, again.stderr);
    t.match(again.stderr, `blob ${runLayer} is corrupt: ${blobPath(p.root, runLayer)} hashes to sha256:`, 'the corrupt blob is named, with its file');
    t.equal(count(again.stderr, 'CACHED'), 2, 'the base is cached; the step on the corrupt layer is not');
    t.ok(allIntact(out), 'every exported blob matches its digest');
    t.ok(allIntact(path.join(p.root, 'layout')), 'and so does every blob in the store: the step made its layer again');
    // The outputs carry the layer gzipped (the store keeps it uncompressed), the same blob in both.
    const exported = layersOfLayout(out).at(-1)!;
    const loaded = spawnSync('tar', ['-xOf', `${p.dir}/img.tar`, `blobs/sha256/${exported.slice(7)}`]);
    t.equal(sha256Digest(loaded.stdout), exported, 'the docker archive holds the intact layer');
  });
}

t.test('unpack of an image whose layer changed refuses it, naming the digest, and applies nothing', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY file /file\nCMD ["/file"]\n', file: 'content\n' });
  // On the copy snapshotter the build keeps no snapshot of its layer: unpack has to read the blob.
  t.equal(p.build(['-t', 'img:1'], { TSBUILD_SNAPSHOTTER: 'copy' }).status, 0);
  const [layer] = layersOf(p.root, 'img:1');
  corruptions['a changed header']!(blobPath(p.root, layer!));
  const bundle = path.join(p.dir, 'bundle');
  const r = spawnSync(TSBUILD, ['unpack', '--root', p.root, 'img:1', bundle], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(errorLines(r.stderr), [new RegExp(`^tsbuild: error: blob ${layer} is corrupt: ${blobPath(p.root, layer!)} hashes to sha256:[0-9a-f]{64}; removed it from the store$`)],
    'one line naming the blob and its file');
  t.same(fs.readdirSync(path.join(bundle, 'rootfs')), [], 'nothing of it was applied');
  t.notOk(fs.existsSync(blobPath(p.root, layer!)), 'the corrupt blob is gone from the store');
  const rebuilt = p.build(['-t', 'img:1']);
  t.equal(rebuilt.status, 0, rebuilt.stderr);
  t.equal(count(rebuilt.stderr, 'CACHED'), 0, 'the next build makes the layer again');
  t.equal(fs.readFileSync(path.join(p.unpack('img:1'), 'file'), 'utf8'), 'content\n');
});

t.test('FROM an image whose layer is corrupt fails naming the digest, and tags nothing', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY file /file\n', file: 'content\n' });
  t.equal(p.build(['-t', 'base:1']).status, 0);
  const [layer] = layersOf(p.root, 'base:1');
  corruptions['a flipped byte']!(blobPath(p.root, layer!));
  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), 'FROM base:1\nLABEL on=top\n');
  const r = p.build(['-t', 'top:1']);
  t.equal(r.status, 1);
  t.match(errorLines(r.stderr), [new RegExp(`^tsbuild: error: blob ${layer} is corrupt: ${blobPath(p.root, layer!)} hashes to sha256:`)]);
  t.notOk(tagsOf(p).includes('top:1'), 'the image on the corrupt layer is not tagged');
});

t.test('archives are made of checked blobs, under a temp name: a failed one leaves the previous file', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY file /file\n', file: 'content\n' });
  const layoutDir = path.join(p.dir, 'layout');
  t.equal(p.build(['-t', 'img:1', '-o', `type=oci,dest=${layoutDir}`]).status, 0);
  const layout = await OciLayout.open(layoutDir, { create: false });
  const layer = layout.resolve('1').manifest.layers[0]!.digest;
  for (const [kind, write] of [['oci', (f: string) => writeOciArchive(layoutDir, f)], ['docker', (f: string) => writeDockerArchive(layoutDir, '1', f, 'img:1')]] as const) {
    const dest = path.join(p.dir, `${kind}.tar`);
    fs.writeFileSync(dest, 'the previous archive');
    fs.copyFileSync(path.join(layoutDir, 'blobs', 'sha256', layer.slice(7)), path.join(p.dir, 'good'));
    corruptions['a truncation']!(path.join(layoutDir, 'blobs', 'sha256', layer.slice(7)));
    await t.rejects(write(dest), new RegExp(`blob ${layer} is corrupt`), `the ${kind} archive refuses the corrupt layer`);
    t.equal(fs.readFileSync(dest, 'utf8'), 'the previous archive', 'the previous file is untouched');
    t.same(fs.readdirSync(p.dir).filter((n) => n.includes('.tmp')), [], 'no temp file is left beside it');
    fs.copyFileSync(path.join(p.dir, 'good'), path.join(layoutDir, 'blobs', 'sha256', layer.slice(7)));
    await write(dest);
    const listed = spawnSync('tar', ['-tf', dest], { encoding: 'utf8' });
    t.match(listed.stdout, `blobs/sha256/${layer.slice(7)}`, `an intact layout gives a whole ${kind} archive`);
  }
});

/** Mounts a tmpfs of `size` on a new directory, unmounted (and removed) when the test ends. */
function smallDisk(t: { teardown(fn: () => void): void }, size: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tsbuild-test', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  t.teardown(() => {
    spawnSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

t.test('a full disk under the store: one line naming the file, no partial blob, no scratch left', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY small /small\nCOPY big /big\n', small: 'fits\n' });
  fs.writeFileSync(path.join(p.dir, 'ctx', 'big'), randomBytes(6 << 20)); // incompressible, beyond the disk
  const root = path.join(smallDisk(t, '4m'), 'store');
  const r = spawnSync(TSBUILD, ['build', '--root', root, '-t', 'full:1', path.join(p.dir, 'ctx')], { encoding: 'utf8', env: { ...process.env, TMPDIR: p.tmpdir } });
  t.equal(r.status, 1);
  const lines = errorLines(r.stderr);
  t.equal(lines.length, 1, `one error line, no stack trace:\n${r.stderr}`);
  t.match(lines[0], new RegExp(`^tsbuild: error: Dockerfile:3: \\w+ ${root}/layout/tmp/\\S+: ENOSPC: no space left on device$`), 'it names the file that did not fit');
  t.same(fs.readdirSync(path.join(root, 'layout', 'tmp')), [], 'no partial blob is left');
  t.same(fs.readdirSync(path.join(root, 'run')), [], 'no run record is left');
  t.same(fs.readdirSync(p.tmpdir), [], 'no scratch directory is left');
  t.notOk(tagsOf({ ...p, root }).includes('full:1'), 'nothing is tagged');
  const small = path.join(p.dir, 'ctx', 'big');
  fs.writeFileSync(small, 'small now\n');
  const ok = spawnSync(TSBUILD, ['build', '--root', root, '-t', 'full:1', path.join(p.dir, 'ctx')], { encoding: 'utf8', env: { ...process.env, TMPDIR: p.tmpdir } });
  t.equal(ok.status, 0, `the store works once there is room: ${ok.stderr}`);

  spawnSync('mount', ['-o', 'remount,ro', path.dirname(root)]);
  const ro = spawnSync(TSBUILD, ['build', '--root', root, '-t', 'ro:1', path.join(p.dir, 'ctx')], { encoding: 'utf8', env: { ...process.env, TMPDIR: p.tmpdir } });
  t.equal(ro.status, 1);
  t.match(errorLines(ro.stderr), [new RegExp(`^tsbuild: error: EROFS: read-only file system, \\w+ '${root}/`)], 'a read-only store: one line naming the path');
  t.same(fs.readdirSync(p.tmpdir), [], 'and no scratch directory');
});

t.test('too few file descriptors (EMFILE): one error line, wherever it strikes', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY file /file\n', file: 'content\n' });
  // Low enough that Node fails while loading tsbuild's bundle, at one point or another. Under Bun
  // (the single binary the launcher prefers), tsbuild builds this context with a dozen fds.
  for (const limit of [20, 22, 24]) {
    const env = { ...process.env, TMPDIR: p.tmpdir, TSBUILD_ENGINE: 'node' };
    const r = spawnSync('sh', ['-c', `ulimit -n ${limit}; exec "$0" "$@"`, TSBUILD, 'build', '--root', p.root, path.join(p.dir, 'ctx')], { encoding: 'utf8', env });
    t.equal(r.status, 1, `ulimit -n ${limit}: the build fails`);
    t.equal(errorLines(r.stderr).length, 1, `ulimit -n ${limit}: in one line, no stack trace:\n${r.stderr}`);
  }
  t.same(fs.readdirSync(p.tmpdir), [], 'no scratch directory is left');
});

/** "<pid>-<start time>" of a process, as the store names the files a process writes. */
const tagOf = (stat: string) => `${stat.split(' ')[0]}-${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;

/** The tag of a process that ran and is gone: it names files no live process holds. */
function deadTag(): string {
  return tagOf(spawnSync('sh', ['-c', 'cat /proc/$$/stat'], { encoding: 'utf8' }).stdout);
}

/** Whether `pid` runs (a zombie does not). */
function processRuns(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

t.test('a build killed during RUN: its container dies with it; the next tsbuild releases its mounts and removes its files', async (t) => {
  const marker = `tsbuild-killed-${process.pid}`;
  // Should the test fail half-way, what the killed build left is still swept before the project goes.
  let sweep = () => {};
  t.teardown(() => sweep());
  const p = busyboxProject(t, ['FROM base', `RUN echo step is running; sh -c "sleep 300; echo ${marker}"`]);
  t.equal(p.build(['--target', 'base']).status, 0);
  const child = spawn(TSBUILD, ['build', '--root', p.root, '-t', 'killed:1', path.join(p.dir, 'ctx')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: p.tmpdir } });
  sweep = () => {
    child.kill('SIGKILL');
    spawnSync(TSBUILD, ['images', '--root', p.root]);
  };
  await new Promise<void>((resolve) => {
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); if (/ step is running$/m.test(stderr)) resolve(); });
  });
  const [record] = fs.readdirSync(path.join(p.root, 'run'));
  const scratch = fs.readFileSync(path.join(p.root, 'run', record!), 'utf8');
  // tsrunc records the container once it has started it, just after the step's first output.
  const containers = () => JSON.parse(spawnSync(TSRUNC, ['--root', path.join(scratch, 'tsrunc'), 'list', '--format', 'json'], { encoding: 'utf8' }).stdout) as { id: string; pid: number }[];
  let listed = containers();
  for (let i = 0; i < 100 && listed.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    listed = containers();
  }
  t.equal(listed.length, 1, 'the step runs in a container of the build');
  const { pid } = listed[0]!;
  const cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.includes(':memory:'))!.split(':')[2]!;
  // A partial blob of another killed build, and a temp file of a live process (this test).
  const partial = path.join(p.root, 'layout', 'tmp', `${deadTag()}-0123456789abcdef`);
  fs.writeFileSync(partial, 'half a layer');
  const live = `${tagOf(fs.readFileSync('/proc/self/stat', 'utf8'))}-fedcba9876543210`;
  fs.writeFileSync(path.join(p.root, 'layout', 'tmp', live), 'being written');
  // And tables a killed build was replacing (writeFileAtomic's temp names): the cache index, the blob checks.
  const tables = [path.join(p.root, 'cache', `.index.json.${deadTag()}-0123456789ab.tmp`), path.join(p.root, `.blob-checks.json.${deadTag()}-0123456789ab.tmp`)];
  for (const table of tables) fs.writeFileSync(table, '{"vers');

  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('close', resolve));
  const mounted = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(scratch));
  // The step's container dies with its build (TsruncClient's TSRUNC_KILL_WITH_PARENT), and tsrunc
  // deletes it; what the build itself held (its overlay, its scratch dir) waits for the sweep.
  for (let i = 0; i < 50 && (processRuns(pid) || containers().length > 0); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.notOk(processRuns(pid), 'the step\'s container died with the killed build');
  t.same(containers(), [], 'and was deleted');
  t.ok(mounted().length > 0, 'the killed build left its overlay mounted');

  const next = spawnSync(TSBUILD, ['prune', '--root', p.root], { encoding: 'utf8' });
  t.equal(next.status, 0, next.stderr);
  const build = record!.split('-')[0];
  t.match(next.stderr, new RegExp(`tsbuild: unmounted ${scratch}/\\S+/merged of killed build ${build}`), 'the overlay');
  t.match(next.stderr, `tsbuild: removed ${scratch} of killed build ${build}`, 'the scratch directory');
  t.match(next.stderr, `tsbuild: removed ${partial}, a partial file of a killed build`, 'and the partial blob');
  for (const table of tables) t.match(next.stderr, `tsbuild: removed ${table}, a partial file of a killed build`, 'and each half-written table');
  t.notOk(processRuns(pid), 'no container process runs');
  t.notOk(fs.existsSync(path.join('/sys/fs/cgroup/memory', cgroup)), 'its cgroup is removed');
  const stray = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker); } catch { return false; }
  });
  t.same(stray, [], 'nothing of the step runs');
  t.same(mounted(), [], 'nothing is mounted');
  t.notOk(fs.existsSync(scratch), 'no scratch directory is left');
  t.same(fs.readdirSync(path.join(p.root, 'run')), [], 'no run record is left');
  t.same(fs.readdirSync(path.join(p.root, 'layout', 'tmp')), [live], "a live process' temp file is kept");
  fs.rmSync(path.join(p.root, 'layout', 'tmp', live));
  t.notMatch(spawnSync(TSBUILD, ['images', '--root', p.root], { encoding: 'utf8' }).stdout, /killed:1/, 'nothing was tagged');
});
