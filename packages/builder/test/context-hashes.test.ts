// The build context's content digests are kept in the store by stat (as BuildKit's contenthash):
// a no-change rebuild of a 20000-file context opens none of its files (strace says so), a file
// rewritten with its size and mtime kept is still seen (its ctime moved). A 2 GiB file is hashed,
// copied, tarred and compressed in bounded memory (GNU time's maximum RSS) and arrives intact.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import tar from 'tar-stream';
import { openLayerTar } from '../src/image/layer-reader.js';
import { project, TSBUILD, type Project } from './project.js';

const STRACE = '/usr/bin/strace';
const TIME = '/usr/bin/time';
const FILES = 20000;
const PER_DIR = 200;

/** tsbuild build, run under `wrapper` (a command and its arguments before tsbuild's). */
function wrappedBuild(p: Project, wrapper: string[], args: string[]) {
  const [command, ...rest] = wrapper;
  const r = spawnSync(command!, [...rest, TSBUILD, 'build', '--root', p.root, ...args, path.join(p.dir, 'ctx')],
    { encoding: 'utf8', env: { ...process.env, TMPDIR: p.tmpdir }, maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The layers of an image (its id changes with the build's time). */
function layers(p: Project, ref: string): string[] {
  const r = spawnSync(TSBUILD, ['inspect', '--root', p.root, ref], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { RootFS: { Layers: string[] } }[])[0]!.RootFS.Layers;
}

/** The regular files of the context that a strace log shows opened (directories, opened to list them, apart). */
function openedContextFiles(log: string, ctx: string): { files: string[]; dirs: number } {
  const files: string[] = [];
  let dirs = 0;
  for (const line of log.split('\n')) {
    const m = /openat\(AT_FDCWD, "([^"]+)", ([A-Z_|]+)/.exec(line);
    if (!m?.[1]?.startsWith(`${ctx}/files/`)) continue;
    if (m[2]!.includes('O_DIRECTORY')) dirs++;
    else files.push(path.relative(ctx, m[1]));
  }
  return { files, dirs };
}

t.test('a no-change rebuild of a 20000-file context reads no file content', { skip: !fs.existsSync(STRACE) && 'strace is not installed', timeout: 1_200_000 }, async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY files/ /files/\nCMD ["none"]\n' });
  const ctx = path.join(p.dir, 'ctx');
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(ctx, 'files', `d${Math.floor(i / PER_DIR)}`);
    if (i % PER_DIR === 0) fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i}`), `file ${i}\n`);
  }
  // Files changed within the last clock tick are hashed again on the next build (the racy rule).
  await new Promise((r) => setTimeout(r, 300));
  const first = wrappedBuild(p, ['env'], ['-t', 'app:1']);
  t.equal(first.status, 0, first.stderr);

  const trace = path.join(p.dir, 'trace');
  const second = wrappedBuild(p, [STRACE, '-f', '-qq', '--seccomp-bpf', '-e', 'trace=openat', '-o', trace], ['-t', 'app:2']);
  t.equal(second.status, 0, second.stderr);
  t.same(layers(p, 'app:2'), layers(p, 'app:1'), 'the same layer, from the cache');
  const unchanged = openedContextFiles(fs.readFileSync(trace, 'utf8'), ctx);
  t.same(unchanged.files, [], 'no file of the context was opened');
  t.equal(unchanged.dirs, FILES / PER_DIR, 'each directory was listed: the trace saw the walk');

  // The same size and mtime, other bytes: only the ctime tells, and only that file is read.
  const changed = path.join(ctx, 'files', 'd7', 'f1500');
  const { atime, mtime } = fs.statSync(changed);
  fs.writeFileSync(changed, 'FILE 1500\n');
  fs.utimesSync(changed, atime, mtime);
  const third = wrappedBuild(p, [STRACE, '-f', '-qq', '--seccomp-bpf', '-e', 'trace=openat', '-o', trace], ['-t', 'app:3']);
  t.equal(third.status, 0, third.stderr);
  // The new layer is staged from every file; the hashing before it read the changed one alone.
  const opened = openedContextFiles(fs.readFileSync(trace, 'utf8'), ctx).files;
  const times = (rel: string) => opened.filter((f) => f === rel).length;
  t.equal(times('files/d7/f1500'), 2, 'the changed file was read twice: hashed, then copied');
  t.equal(times('files/d7/f1499'), 1, 'the others once: copied');
  t.equal(opened.length, FILES + 1);
  t.notSame(layers(p, 'app:3'), layers(p, 'app:1'), 'a new layer');
  t.equal(fs.readFileSync(path.join(p.unpack('app:3'), 'files', 'd7', 'f1500'), 'utf8'), 'FILE 1500\n', 'with the new content');
});

/** The sha256 of the file `name` in a layer blob (uncompressed or not), read as a stream. */
async function digestInLayer(blob: string, name: string): Promise<string | undefined> {
  let found: string | undefined;
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const hash = createHash('sha256');
    stream.on('data', (chunk) => { if (header.name === name) hash.update(chunk as Buffer); });
    stream.on('end', () => {
      if (header.name === name) found = hash.digest('hex');
      next();
    });
  });
  await pipeline(await openLayerTar(fs.createReadStream(blob)), extract);
  return found;
}

t.test('a 2 GiB file in the context: built in under 200 MB, copied intact', { skip: !fs.existsSync(TIME) && 'GNU time is not installed', timeout: 600_000 }, async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY big.bin /data/big.bin\n' });
  const big = path.join(p.dir, 'ctx', 'big.bin');
  // Sparse, to spare the disk, with random bytes at its start, middle and end.
  const fd = fs.openSync(big, 'w');
  for (const at of [0, 1 << 30, 2 ** 31 - (1 << 20)]) fs.writeSync(fd, createHash('sha512').update(String(at)).digest().toString('hex').repeat(8192), at);
  fs.ftruncateSync(fd, 2 ** 31);
  fs.closeSync(fd);
  const r = wrappedBuild(p, [TIME, '-f', 'max-rss-kb %M'], ['-t', 'big']);
  t.equal(r.status, 0, r.stderr);
  const rss = Number(/max-rss-kb (\d+)/.exec(r.stderr)?.[1]) * 1024;
  t.ok(rss > 0 && rss < 200 * 2 ** 20, `peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);

  const index = JSON.parse(fs.readFileSync(path.join(p.root, 'layout', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const blob = (digest: string) => path.join(p.root, 'layout', 'blobs', 'sha256', digest.slice('sha256:'.length));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as { layers: { digest: string }[] };
  t.equal(manifest.layers.length, 1);
  const source = createHash('sha256');
  await pipeline(fs.createReadStream(big), source);
  t.equal(await digestInLayer(blob(manifest.layers[0]!.digest), 'data/big.bin'), source.digest('hex'), 'the layer holds the same bytes');
});
