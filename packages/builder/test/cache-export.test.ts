// --cache-to type=local and --cache-from type=local: the build cache written as BuildKit's local
// cache backend writes it (an OCI layout: a manifest whose config is a BuildKit cache config and
// whose layers are the steps' layers) and read back by a build on an empty store. Which RUN steps
// ran is counted by the steps themselves, in a cache mount of the store that ran them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { counted, runsIn } from './step-counter.js';
import { BUSYBOX_BASE, busyboxProject, count, TSBUILD, type Project } from './project.js';

const CACHE_CONFIG = 'application/vnd.buildkit.cacheconfig.v0';

// Six cached ops: the base's COPY and RUN, the tool stage's RUN, the final stage's RUN, COPY --from, RUN.
const DOCKERFILE = [
  ...BUSYBOX_BASE.slice(0, 3),
  'FROM base AS tool',
  counted('tool', ' && echo built-by-tool > /tool && echo not-copied > /other'),
  'FROM base',
  counted('one', ' && cat /proc/sys/kernel/random/uuid > /one'),
  'COPY --from=tool /tool /tool',
  counted('two', ''),
];
const OPS = 6;


const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
const blob = (layout: string, digest: string) => path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
const builtDigest = (stderr: string) => /built (sha256:[0-9a-f]{64})/.exec(stderr)?.[1];
const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };

let p: Project;
let first: { digest: string; one: string };
let cacheMax: string;
let cacheMin: string;

/** A build of the project into an empty store of its own, `args` added. */
function buildInEmptyStore(name: string, args: string[]) {
  const root = path.join(p.dir, `store-${name}`);
  const r = p.build(['--root', root, '--progress', 'plain', '-t', `${name}:1`, ...args], EPOCH);
  return { ...r, root };
}

/** A file of the image `ref` of the store at `root`, unpacked into the project's directory. */
function fileOf(root: string, ref: string, file: string): string {
  const bundle = path.join(p.dir, `bundle-${path.basename(root)}`);
  const r = spawnSync(TSBUILD, ['unpack', '--root', root, ref, bundle], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return fs.readFileSync(path.join(bundle, 'rootfs', file), 'utf8');
}

t.before(() => {
  p = busyboxProject(t, DOCKERFILE.slice(3));
  cacheMax = path.join(p.dir, 'cache-max');
  cacheMin = path.join(p.dir, 'cache-min');
  const r = p.build(['--progress', 'plain', '-t', 'app:1', '--cache-to', `type=local,dest=${cacheMax},mode=max`, '--cache-to', `type=local,dest=${cacheMin}`], EPOCH);
  if (r.status !== 0) throw new Error(r.stderr);
  first = { digest: builtDigest(r.stderr)!, one: fs.readFileSync(path.join(p.unpack('app:1'), 'one'), 'utf8') };
});

t.test('the first build ran every counted step and wrote both caches in BuildKit\'s layout', async (t) => {
  t.equal(runsIn(p.root), 'one tool two', 'the counter counts the steps that ran');
  for (const dir of [cacheMax, cacheMin]) {
    t.same(readJson(path.join(dir, 'oci-layout')), { imageLayoutVersion: '1.0.0' });
    const index = readJson(path.join(dir, 'index.json'));
    t.equal(index.manifests.length, 1);
    t.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'latest', 'tagged as BuildKit tags it by default');
    const manifest = readJson(blob(dir, index.manifests[0].digest));
    t.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    t.equal(manifest.config.mediaType, CACHE_CONFIG, 'the config is a BuildKit cache config');
    const config = readJson(blob(dir, manifest.config.digest));
    t.same(config.layers.map((l: { blob: string }) => l.blob), manifest.layers.map((l: { digest: string }) => l.digest), 'the config lists the manifest\'s layers');
    for (const layer of manifest.layers) {
      t.match(layer.annotations['containerd.io/uncompressed'], /^sha256:[0-9a-f]{64}$/, 'each layer carries its diffID');
      t.ok(fs.existsSync(blob(dir, layer.digest)), 'and is in the directory');
    }
  }
  const records = (dir: string) => {
    const manifest = readJson(blob(dir, readJson(path.join(dir, 'index.json')).manifests[0].digest));
    return readJson(blob(dir, manifest.config.digest)).records.length;
  };
  t.equal(records(cacheMax), OPS, 'mode=max: every step of every stage');
  t.equal(records(cacheMin), OPS - 1, 'mode=min: all but the tool stage\'s RUN, whose layer is not in the image');
});

t.test('a second build on an empty store with --cache-from hits the cache for every step', async (t) => {
  const r = buildInEmptyStore('second', ['--cache-from', `type=local,src=${cacheMax}`]);
  t.equal(r.status, 0, r.stderr);
  t.equal(count(r.stderr, 'CACHED'), OPS, 'every step is CACHED');
  t.equal(runsIn(r.root), '', 'no RUN step ran: the counter of the new store is empty');
  t.equal(builtDigest(r.stderr), first.digest, 'the very image of the first build');
  t.equal(fileOf(r.root, 'second:1', 'one'), first.one, 'the file the first build\'s RUN wrote (a random uuid) is in it');
});

t.test('mode=min: the steps of the final image hit, the other stage runs again', async (t) => {
  const r = buildInEmptyStore('min', ['--cache-from', `type=local,src=${cacheMin}`]);
  t.equal(r.status, 0, r.stderr);
  t.equal(runsIn(r.root), 'tool', 'only the tool stage\'s RUN ran');
  t.equal(count(r.stderr, 'CACHED'), OPS - 1);
  t.equal(builtDigest(r.stderr), first.digest, 'the same image');
});

t.test('a cache that cannot be read is a warning: the build goes on without it, as BuildKit\'s', async (t) => {
  const nowhere = path.join(p.dir, 'nowhere');
  const r = buildInEmptyStore('absent', ['--cache-from', `type=local,src=${nowhere}`, '--cache-from', `type=local,src=${cacheMax},tag=v9`]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, `WARNING: the cache is not used: ${nowhere} is not an OCI image layout (no oci-layout)`);
  t.match(r.stderr, `WARNING: the cache is not used: ${cacheMax}: no manifests tagged v9`);
  t.equal(runsIn(r.root), 'one tool two', 'every step ran');
  t.notOk(fs.existsSync(nowhere), 'reading a cache makes nothing');
});

t.test('a cache whose layers are not what their digests say: each is refused, its step built again', async (t) => {
  const tampered = path.join(p.dir, 'cache-tampered');
  fs.cpSync(cacheMax, tampered, { recursive: true });
  const manifest = readJson(blob(tampered, readJson(path.join(tampered, 'index.json')).manifests[0].digest));
  const forged = new Set<string>();
  for (const layer of manifest.layers) {
    // The same size, other bytes: only the digest tells them apart.
    const bytes = Buffer.alloc(layer.size, `forged ${layer.digest} `);
    fs.writeFileSync(blob(tampered, layer.digest), bytes);
    forged.add(bytes.toString('base64'));
  }
  const r = buildInEmptyStore('tampered', ['--cache-from', `type=local,src=${tampered}`]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, new RegExp(`cache from ${tampered}:latest: blob sha256:[0-9a-f]{64} from ${tampered}/blobs/sha256/[0-9a-f]{64}: the content is sha256:`), 'the refusal is told');
  t.equal(runsIn(r.root), 'one tool two', 'every RUN ran, none took a forged layer');
  const stored = fs.readdirSync(path.join(r.root, 'layout', 'blobs', 'sha256'));
  t.notOk(stored.some((hex) => forged.has(fs.readFileSync(path.join(r.root, 'layout', 'blobs', 'sha256', hex)).toString('base64'))), 'no forged bytes in the store');
  t.same(fs.readdirSync(path.join(r.root, 'layout', 'tmp')), [], 'no temp file left');
});

t.test('--cache-to errors: a bad option names it, a failed export fails the build unless ignore-error=true', async (t) => {
  const file = path.join(p.dir, 'a-file');
  fs.writeFileSync(file, 'not a directory\n');
  const failed = buildInEmptyStore('unwritable', ['--cache-to', `type=local,dest=${file}`]);
  t.equal(failed.status, 1);
  t.match(lastLine(failed.stderr), new RegExp(`^tsbuild: error: --cache-to ${file}:latest: .*ENOTDIR`));
  t.equal(failed.stderr.split('\n').filter((l) => l.startsWith('tsbuild: error')).length, 1, 'one error line');
  const ignored = buildInEmptyStore('ignored', ['--cache-to', `type=local,dest=${file},ignore-error=true`]);
  t.equal(ignored.status, 0, ignored.stderr);
  t.match(ignored.stderr, `WARNING: --cache-to ${file}:latest:`);
  t.equal(fs.readFileSync(file, 'utf8'), 'not a directory\n', 'the file is as it was');

  const refused: [string, string, string][] = [
    ['--cache-to', 'type=s3,ref=x', 'unknown cache type "s3" (registry, local)'],
    ['--cache-to', `type=local,dest=${file},mode=mid`, 'mode must be min or max'],
    ['--cache-to', `type=local,dest=${file},compression=zstd`, 'unknown option "compression" for type=local (dest, tag, mode, ignore-error, oci-mediatypes, image-manifest)'],
    ['--cache-to', `type=local,dest=${file},image-manifest=false`, 'image-manifest=false: tsbuild writes caches only with image-manifest=true'],
    ['--cache-to', 'type=registry,ref=127.0.0.1:5000/cache@sha256:' + '0'.repeat(64), 'the cache is pushed under a tag: the ref needs one'],
    ['--cache-from', 'type=local', 'src= is required'],
    ['--cache-from', 'type=registry,ref=Bad/Name', 'invalid reference "Bad/Name": repository name must be lowercase'],
  ];
  for (const [flag, value, why] of refused) {
    const r = buildInEmptyStore('refused', [flag, value]);
    t.equal(r.status, 1, `${flag} ${value}`);
    t.equal(lastLine(r.stderr), `tsbuild: error: ${value.startsWith('type=registry,ref=Bad') ? '' : `${flag} ${value}: `}${why}`);
    t.notOk(fs.existsSync(path.join(r.root, 'layout')), 'refused before the store is opened');
  }
});

t.test('without SOURCE_DATE_EPOCH, a build from an imported cache gives the image the cache\'s build gave: each layer keeps its time', async (t) => {
  const timed = busyboxProject(t, ['RUN echo one > /one', 'ENV A=1']);
  const cache = path.join(timed.dir, 'cache');
  const made = timed.build(['--progress', 'plain', '--cache-to', `type=local,dest=${cache},mode=max`]);
  t.equal(made.status, 0, made.stderr);
  const manifest = readJson(blob(cache, readJson(path.join(cache, 'index.json')).manifests[0].digest));
  const config = readJson(blob(cache, manifest.config.digest)) as { layers: { annotations: { createdAt?: string } }[] };
  t.ok(config.layers.every((l) => !Number.isNaN(Date.parse(l.annotations.createdAt ?? ''))), 'each cached layer carries createdAt');
  const elsewhere = timed.build(['--root', path.join(timed.dir, 'store-elsewhere'), '--progress', 'plain', '--cache-from', `type=local,src=${cache}`]);
  t.equal(elsewhere.status, 0, elsewhere.stderr);
  t.equal(count(elsewhere.stderr, 'CACHED'), 3, 'every step from the imported cache');
  t.equal(builtDigest(elsewhere.stderr), builtDigest(made.stderr), 'the same image digest');
});
