// `tsbuild build` flags as people type them with docker build: -f -, a context on stdin (a tar or
// a Dockerfile alone), --build-arg NAME from the environment, --label, -q, --iidfile,
// --metadata-file, -o type=local and -o type=tar.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { project, TSBUILD, type Project } from './project.js';

/** tsbuild build with `args` and `input` on stdin, in the project's store; the context is the last of args. */
function build(p: Project, args: string[], input: string | Buffer, env: Record<string, string> = {}) {
  const r = spawnSync(TSBUILD, ['build', '--root', p.root, ...args], { input, encoding: 'utf8', env: { ...process.env, TMPDIR: p.tmpdir, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function inspect(p: Project, name: string): { Id: string; Config: { Labels?: Record<string, string> } } {
  const r = spawnSync(TSBUILD, ['inspect', '--root', p.root, name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { Id: string; Config: { Labels?: Record<string, string> } }[])[0]!;
}

t.test('-f - reads the Dockerfile from stdin; -q, --iidfile and --metadata-file give the image', async (t) => {
  const p = project(t, { 'a.txt': 'from the context\n', Dockerfile: 'FROM scratch\nCOPY nothing-here /\n' });
  const iidfile = path.join(p.dir, 'iid');
  const metadata = path.join(p.dir, 'metadata.json');
  const out = path.join(p.dir, 'out');
  const r = build(p, ['-q', '-f', '-', '-t', 'app', '--iidfile', iidfile, '--metadata-file', metadata, '-o', `type=local,dest=${out}`, path.join(p.dir, 'ctx')],
    'FROM scratch\nCOPY a.txt /files/a.txt\n');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '', '-q prints no progress');
  const id = inspect(p, 'app').Id;
  t.equal(r.stdout, `${id}\n`, '-q prints the image id alone');
  t.equal(fs.readFileSync(iidfile, 'utf8'), id, 'the iidfile holds the id');
  const meta = JSON.parse(fs.readFileSync(metadata, 'utf8')) as Record<string, unknown>;
  const index = JSON.parse(fs.readFileSync(path.join(p.root, 'layout', 'index.json'), 'utf8')) as { manifests: { digest: string; size: number }[] };
  t.equal(meta['containerimage.digest'], index.manifests[0]!.digest, 'the manifest digest, as BuildKit writes it');
  t.equal(meta['containerimage.config.digest'], id);
  t.match(meta['containerimage.descriptor'], { digest: index.manifests[0]!.digest, size: index.manifests[0]!.size });
  t.equal(meta['image.name'], 'app:latest');
  t.equal(fs.readFileSync(path.join(out, 'files', 'a.txt'), 'utf8'), 'from the context\n', '-o type=local wrote the filesystem');

  const failed = build(p, ['-q', '-f', '-', path.join(p.dir, 'ctx')], 'FROM scratch\nCOPY missing /\n');
  t.equal(failed.status, 1);
  t.equal(failed.stdout, '');
  t.match(failed.stderr, /#\d+ \[stage-0 1\/2\] FROM scratch[^]*tsbuild: error: Dockerfile:2: COPY: "missing": not found/, 'a failed -q build shows its log');
});

t.test('build - takes a tar context; -o type=tar writes the filesystem as one archive', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY . /app/\n', 'src/main.txt': 'main\n', '.dockerignore': 'secret.txt\n', 'secret.txt': 'no\n' });
  const context = spawnSync('tar', ['-C', path.join(p.dir, 'ctx'), '-cz', '.'], { maxBuffer: 1 << 24 }).stdout;
  const archive = path.join(p.dir, 'fs.tar');
  const r = build(p, ['-o', `type=tar,dest=${archive}`, '-'], context);
  t.equal(r.status, 0, r.stderr);
  const listed = spawnSync('tar', ['-tf', archive], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((n) => n.replace(/^\.\//, '')).sort();
  t.same(listed.filter((n) => !n.endsWith('/')), ['app/.dockerignore', 'app/Dockerfile', 'app/src/main.txt'], 'the context, without what .dockerignore leaves out');
  const main = spawnSync('tar', ['-xOf', archive, 'app/src/main.txt'], { encoding: 'utf8' });
  t.equal(main.stdout, 'main\n');
  t.same(fs.readdirSync(p.tmpdir).filter((n) => n.startsWith('tsbuild-context-')), [], 'the unpacked context is removed');
  t.notOk(fs.readdirSync(p.dir).some((n) => n.startsWith('.fs.tar')), 'no temp archive is left');
});

t.test('build - takes a Dockerfile alone; --label and --build-arg NAME from the environment', async (t) => {
  const p = project(t, {});
  const dockerfile = 'FROM scratch\nARG FROM_ENV\nLABEL from.env=$FROM_ENV kept=dockerfile over=dockerfile\n';
  const r = build(p, ['-t', 'labelled', '--build-arg', 'FROM_ENV', '--label', 'over=flag', '--label', 'added=yes', '-'], dockerfile, { FROM_ENV: 'environment value' });
  t.equal(r.status, 0, r.stderr);
  t.same(inspect(p, 'labelled').Config.Labels, { 'from.env': 'environment value', kept: 'dockerfile', over: 'flag', added: 'yes' });

  const both = build(p, ['-f', '-', '-'], dockerfile);
  t.equal(both.status, 1);
  t.equal(both.stderr, 'tsbuild: error: -f - and the context - cannot both be read from stdin\n');
  const local = build(p, ['-o', 'type=local', '-'], dockerfile);
  t.equal(local.stderr.trim().split('\n').pop(), 'tsbuild: error: -o type=local: dest= is required');
});

t.test('--build-context NAME=docker-image://REF is what FROM NAME and COPY --from=NAME take', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY base.txt /base.txt\n', 'base.txt': 'from the base image\n' });
  t.equal(p.build(['-t', 'made-here:1']).status, 0);
  const out = path.join(p.dir, 'out');
  const dockerfile = 'FROM runtime\nCOPY --from=tools /base.txt /copied.txt\n';
  const r = build(p, ['--build-context', 'runtime=docker-image://made-here:1', '--build-context', 'tools=docker-image://made-here:1',
    '-o', `type=local,dest=${out}`, '-'], dockerfile);
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(out, 'base.txt'), 'utf8'), 'from the base image\n', 'FROM runtime is the image');
  t.equal(fs.readFileSync(path.join(out, 'copied.txt'), 'utf8'), 'from the base image\n', 'COPY --from=tools reads the image');

  const without = build(p, ['-'], dockerfile);
  t.equal(without.status, 1, 'without the flag, runtime is a name to pull');
  const scheme = build(p, ['--build-context', 'runtime=git://127.0.0.1/x.git', '-'], dockerfile);
  t.equal(scheme.stderr, 'tsbuild: error: --build-context runtime=git://127.0.0.1/x.git: only docker-image://, oci-layout:// and local directories are supported\n', 'another kind of source is refused by name');
});

t.test('-f FILE is relative to the working directory, as docker\'s CLI takes it, not to the context', async (t) => {
  const p = project(t, { 'a.txt': 'a\n', Dockerfile: 'FROM scratch\nCOPY missing /\n' });
  fs.mkdirSync(path.join(p.dir, 'docker'));
  fs.writeFileSync(path.join(p.dir, 'docker', 'app.Dockerfile'), 'FROM scratch\nCOPY a.txt /a.txt\n');
  const fromProject = spawnSync(TSBUILD, ['build', '--root', p.root, '-f', 'docker/app.Dockerfile', '-t', 'rel:1', 'ctx'],
    { cwd: p.dir, encoding: 'utf8', env: { ...process.env, TMPDIR: p.tmpdir } });
  t.equal(fromProject.status, 0, `a Dockerfile outside the context, named from the working directory: ${fromProject.stderr}`);
  const inContext = spawnSync(TSBUILD, ['build', '--root', p.root, '-f', 'app.Dockerfile', 'ctx'],
    { cwd: p.dir, encoding: 'utf8', env: { ...process.env, TMPDIR: p.tmpdir } });
  t.equal(inContext.status, 1, 'a name relative to the context is not looked up there');
  t.match(inContext.stderr, `failed to read dockerfile: open ${path.join(p.dir, 'app.Dockerfile')}: no such file or directory`);
});
