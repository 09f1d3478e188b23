// Host escapes through COPY and ADD, each performed as an attacker would, FROM scratch and without
// a RUN: a later source written through a symlink an earlier source left in the staging tree
// (COPY, a heredoc, a download), a context symlink to a file .dockerignore leaves out, and ADD of
// the build host's own files by a file:// URL. Each asserts that a marker directory outside the
// context keeps every file's content, mode, owner and mtime, and that nothing appears in it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { project, type Project } from './project.js';

type Asserts = Pick<typeof t, 'not' | 'match' | 'same'>;

const PAST = new Date('2001-02-03T04:05:06Z');

interface Marker {
  dir: string;
  /** Everything below `dir`, itself included: names, types, modes, owners, mtimes and contents. */
  snapshot(): string;
}

/** A host directory outside the context with a file (0600, dated in the past) an attack would aim at. */
function hostMarker(t: { teardown(fn: () => void): void }): Marker {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-host-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'victim'), 'the host file\n', { mode: 0o600 });
  fs.utimesSync(path.join(dir, 'victim'), PAST, PAST);
  fs.utimesSync(dir, PAST, PAST);
  const snapshot = (): string => {
    const lines: string[] = [];
    const visit = (rel: string): void => {
      const full = path.join(dir, rel);
      const st = fs.lstatSync(full);
      const body = st.isFile() ? fs.readFileSync(full, 'base64') : st.isSymbolicLink() ? fs.readlinkSync(full) : '';
      lines.push(`${rel || '.'} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${body}`);
      if (st.isDirectory()) for (const name of fs.readdirSync(full).sort()) visit(rel ? `${rel}/${name}` : name);
    };
    visit('');
    return lines.join('\n');
  };
  return { dir, snapshot };
}

/** Makes `links` (name in the context -> target) in the project's context. */
function symlinks(p: Project, links: Record<string, string>): void {
  for (const [name, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(p.dir, 'ctx', name)), { recursive: true });
    fs.symlinkSync(target, path.join(p.dir, 'ctx', name));
  }
}

/** A build that must fail: its error line, and nothing left in the builds' TMPDIR. */
function refused(t: Asserts, p: Project, args: string[], error: RegExp, what: string): void {
  const r = p.build(args);
  t.not(r.status, 0, `${what}: the build fails`);
  t.match(r.stderr, error, `${what}: the error says why`);
  t.same(fs.readdirSync(p.tmpdir), [], `${what}: no scratch directory is left behind`);
}

const dockerfile = (...lines: string[]) => ['FROM scratch', ...lines, 'CMD ["none"]', ''].join('\n');

t.test('COPY: a later source is never written through a symlink an earlier one staged', async (t) => {
  const host = hostMarker(t);
  const before = host.snapshot();
  const p = project(t, {
    Dockerfile: dockerfile('COPY --chown=1000:1000 dir1 dir2 /dest/'),
    'Dockerfile.dir': dockerfile('COPY dir1 dir3 /dest/'),
    'dir1/real/kept.txt': 'kept\n',
    'dir2/victim': 'from dir2\n',
    'dir2/rel/through.txt': 'through a link inside the layer\n',
    'dir3/x/victim': 'pwned\n',
  });
  fs.chmodSync(path.join(p.dir, 'ctx', 'dir2', 'victim'), 0o755);
  symlinks(p, { 'dir1/victim': path.join(host.dir, 'victim'), 'dir1/x': host.dir, 'dir1/rel': 'real' });

  const r = p.build(['-t', 'copy-over-link:1']);
  t.equal(r.status, 0, r.stderr);
  t.equal(host.snapshot(), before, 'the host file a staged symlink pointed at is untouched, nothing is added beside it');
  const rootfs = p.unpack('copy-over-link:1');
  const victim = fs.lstatSync(path.join(rootfs, 'dest/victim'));
  t.ok(victim.isFile(), 'the second source replaced the staged symlink with its file');
  t.same([fs.readFileSync(path.join(rootfs, 'dest/victim'), 'utf8'), victim.mode & 0o7777, victim.uid], ['from dir2\n', 0o755, 1000], 'with its content, mode and --chown');
  t.equal(fs.readlinkSync(path.join(rootfs, 'dest/rel')), 'real', 'a symlink leading inside the layer stays');
  t.equal(fs.readFileSync(path.join(rootfs, 'dest/real/through.txt'), 'utf8'), 'through a link inside the layer\n', 'and is followed inside it, as BuildKit follows it');
  t.equal(fs.readlinkSync(path.join(rootfs, 'dest/x')), host.dir, 'the link to the host directory is copied as a link');

  refused(t, p, ['-f', 'Dockerfile.dir', '-t', 'copy-over-link:2'], /destination \/dest\/x: cannot be a directory in the layer/, 'a directory through a link to a host directory');
  t.equal(host.snapshot(), before, 'no file is created in the host directory');
});

t.test('COPY <<EOF: a heredoc is never written through a staged symlink', async (t) => {
  const host = hostMarker(t);
  const before = host.snapshot();
  const p = project(t, {
    Dockerfile: dockerfile('COPY --chmod=4755 dir1 <<victim <<x /dest/', 'written by a heredoc', 'victim', 'pwned', 'x'),
  });
  // One link to the host file, one to the host directory: each in the way of a heredoc's file.
  symlinks(p, { 'dir1/victim': path.join(host.dir, 'victim'), 'dir1/x': host.dir });

  const r = p.build(['-t', 'heredoc-over-link:1']);
  t.equal(r.status, 0, r.stderr);
  t.equal(host.snapshot(), before, 'the host file is untouched (content, mode, mtime), and nothing is created beside it');
  const rootfs = p.unpack('heredoc-over-link:1');
  const file = path.join(rootfs, 'dest/victim');
  t.ok(fs.lstatSync(file).isFile(), 'the heredoc replaced the staged symlink');
  t.same([fs.readFileSync(file, 'utf8'), fs.statSync(file).mode & 0o7777], ['written by a heredoc\n', 0o4755], 'with its body, and --chmod with the setuid bit kept');
  t.equal(fs.readFileSync(path.join(rootfs, 'dest/x'), 'utf8'), 'pwned\n', 'a link to a host directory is replaced by the file too');
});

/** Serves `body` at every path, from a child process (the builds run synchronously). */
async function serve(t: { teardown(fn: () => Promise<void>): void }, body: string): Promise<string> {
  const script = `require('node:http').createServer((q, s) => s.end(${JSON.stringify(body)}))
    .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  const server: ChildProcess = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(async () => {
    server.kill();
    if (server.exitCode === null && server.signalCode === null) await once(server, 'exit');
  });
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  return `http://127.0.0.1:${line.toString().trim()}`;
}

t.test('ADD <url>: a download is never written through a staged symlink', async (t) => {
  const host = hostMarker(t);
  const before = host.snapshot();
  const base = await serve(t, 'downloaded\n');
  const p = project(t, { Dockerfile: dockerfile(`ADD dir1 ${base}/files/victim /dest/`) });
  symlinks(p, { 'dir1/victim': path.join(host.dir, 'victim') });

  const r = p.build(['-t', 'add-over-link:1']);
  t.equal(r.status, 0, r.stderr);
  t.equal(host.snapshot(), before, 'the host file is untouched: content, mode and mtime');
  const file = path.join(p.unpack('add-over-link:1'), 'dest/victim');
  t.ok(fs.lstatSync(file).isFile(), 'the download replaced the staged symlink');
  t.equal(fs.readFileSync(file, 'utf8'), 'downloaded\n', 'with what was downloaded');
});

t.test('.dockerignore: a symlink to what it leaves out resolves to nothing', async (t) => {
  const p = project(t, {
    Dockerfile: dockerfile('COPY innocent /x'),
    'Dockerfile.absolute': dockerfile('COPY innocent-abs /x'),
    'Dockerfile.hop': dockerfile('COPY hop /x'),
    'Dockerfile.dir': dockerfile('COPY into-private/key /x'),
    'Dockerfile.fine': dockerfile('COPY ok /ok', 'COPY . /all/'),
    '.dockerignore': 'secret.txt\nignored-link\nprivate\n',
    'secret.txt': 'top secret\n',
    'private/key': 'private key\n',
    'public.txt': 'public\n',
  });
  symlinks(p, {
    innocent: 'secret.txt',
    'innocent-abs': '/secret.txt',
    // A link that is itself left out, on the way to a file that is not.
    hop: 'ignored-link',
    'ignored-link': 'public.txt',
    'into-private': 'private',
    ok: 'public.txt',
  });
  const notFound = /not found in the build context \(a symlink on the way leads to what \.dockerignore excludes\)/;
  refused(t, p, ['-t', 'ignored:1'], notFound, 'a relative link to an ignored file');
  refused(t, p, ['-f', 'Dockerfile.absolute', '-t', 'ignored:2'], notFound, 'an absolute link to an ignored file');
  refused(t, p, ['-f', 'Dockerfile.hop', '-t', 'ignored:3'], notFound, 'a path through an ignored link');
  refused(t, p, ['-f', 'Dockerfile.dir', '-t', 'ignored:4'], notFound, 'a path through a link into an ignored directory');

  const r = p.build(['-f', 'Dockerfile.fine', '-t', 'ignored:5']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('ignored:5');
  t.equal(fs.readFileSync(path.join(rootfs, 'ok'), 'utf8'), 'public\n', 'a link to a file that is not ignored is copied as that file');
  t.notOk(fs.existsSync(path.join(rootfs, 'all/secret.txt')), 'a copy of the whole context leaves the ignored file out');
  t.equal(fs.readlinkSync(path.join(rootfs, 'all/innocent')), 'secret.txt', 'and keeps the link below it as a link, which leads to nothing');
});

t.test('ADD file://: the build host\'s files and repositories are refused', async (t) => {
  const host = hostMarker(t);
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-work-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  git(work, 'init', '-q');
  fs.writeFileSync(path.join(work, 'private.txt'), 'a repository of the build host\n');
  git(work, 'add', '.');
  git(work, 'commit', '-q', '-m', 'private');
  git(host.dir, 'clone', '-q', '--bare', work, path.join(host.dir, 'repo.git'));
  fs.utimesSync(host.dir, PAST, PAST);
  const before = host.snapshot();
  const p = project(t, {
    Dockerfile: dockerfile(`ADD file://${host.dir}/repo.git /src/`),
    'Dockerfile.file': dockerfile(`ADD file://${host.dir}/victim /victim`),
    'Dockerfile.ref': dockerfile(`ADD FILE://${host.dir}/repo.git#main /src/`),
    'Dockerfile.path': dockerfile(`ADD ${host.dir}/victim /victim`),
  });
  const unsupported = /ADD (file|FILE):\/\/\S+: file:\/\/ sources are not supported: ADD takes local files from the build context only/;
  refused(t, p, ['-t', 'file-url:1'], unsupported, 'a git repository by a file:// URL');
  refused(t, p, ['-f', 'Dockerfile.file', '-t', 'file-url:2'], unsupported, 'a host file by a file:// URL');
  refused(t, p, ['-f', 'Dockerfile.ref', '-t', 'file-url:3'], unsupported, 'an upper-case scheme with a ref');
  refused(t, p, ['-f', 'Dockerfile.path', '-t', 'file-url:4'], /not found in the build context/, 'an absolute path, which is the context\'s');
  t.equal(host.snapshot(), before, 'the host directory and its repository are untouched');
});
