// ADD of http(s) URLs against a real HTTP server on loopback (a child process, as the builds run
// synchronously): names, modes, owners and dates of the downloads, archives left packed, the cache
// keyed by content, --checksum, and the errors of a missing file, a refused connection and an
// unreachable git remote.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { count, freePort, project, TSBUILD } from './project.js';

const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';

/** Serves files of `dir` under /files/, and one under a Content-Disposition name at /report. */
const SERVER = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const dir = process.argv[1];
http.createServer((req, res) => {
  const name = req.url.startsWith('/files/') ? path.basename(req.url) : req.url === '/report' ? 'report-body' : '';
  const file = path.join(dir, name);
  if (name === '' || !fs.existsSync(file)) { res.writeHead(404); res.end('no'); return; }
  const headers = { 'last-modified': '${LAST_MODIFIED}' };
  if (req.url === '/report') headers['content-disposition'] = 'attachment; filename="report.csv"';
  res.writeHead(200, headers);
  fs.createReadStream(file).pipe(res);
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;

async function startServer(t: { teardown(fn: () => void | Promise<void>): void }, dir: string): Promise<string> {
  const server: ChildProcess = spawn(process.execPath, ['-e', SERVER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(async () => {
    server.kill();
    if (server.exitCode === null && server.signalCode === null) await once(server, 'exit');
  });
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  return `http://127.0.0.1:${line.toString().trim()}`;
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

t.test('ADD <url>', async (t) => {
  const served = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-served-'));
  t.teardown(() => fs.rmSync(served, { recursive: true, force: true }));
  fs.writeFileSync(path.join(served, 'hello.txt'), 'hello over http\n');
  fs.writeFileSync(path.join(served, 'report-body'), 'a,b\n1,2\n');
  fs.writeFileSync(path.join(served, 'late.txt'), 'first\n');
  const tar = packedArchive(served);
  const base = await startServer(t, served);

  const p = project(t, {
    Dockerfile: [
      'FROM scratch',
      'CMD ["none"]',
      `ADD ${base}/files/hello.txt /downloads/`,
      `ADD ${base}/files/hello.txt /renamed.txt`,
      `ADD --chown=1000:1001 --chmod=644 ${base}/files/hello.txt /owned.txt`,
      `ADD ${base}/report /reports/`,
      `ADD ${base}/files/bundle.tar.gz /archives/`,
      `ADD local.txt ${base}/files/hello.txt /mixed/`,
      `ADD ${base}/files/late.txt /late.txt`,
      '',
    ].join('\n'),
    'local.txt': 'from the context\n',
  });
  const first = p.build(['-t', 'add-url:1']);
  t.equal(first.status, 0, first.stderr);
  const rootfs = p.unpack('add-url:1');
  const stat = (rel: string) => fs.statSync(path.join(rootfs, rel));
  const read = (rel: string) => fs.readFileSync(path.join(rootfs, rel), 'utf8');
  t.equal(read('downloads/hello.txt'), 'hello over http\n', 'a destination ending in / takes the URL\'s file name');
  t.equal(stat('downloads/hello.txt').mode & 0o7777, 0o600, 'a download is mode 0600');
  t.equal(stat('downloads/hello.txt').mtime.toUTCString(), LAST_MODIFIED, 'dated by Last-Modified');
  t.equal(read('renamed.txt'), 'hello over http\n', 'a plain destination is the file itself');
  t.same([stat('owned.txt').uid, stat('owned.txt').gid, stat('owned.txt').mode & 0o7777], [1000, 1001, 0o644], '--chown and --chmod apply');
  t.equal(read('reports/report.csv'), 'a,b\n1,2\n', 'Content-Disposition names the file');
  t.ok(stat('archives/bundle.tar.gz').isFile(), 'a downloaded archive is not unpacked');
  t.equal(fs.readFileSync(path.join(rootfs, 'archives/bundle.tar.gz')).toString('hex'), tar.toString('hex'), 'byte for byte');
  t.same(fs.readdirSync(path.join(rootfs, 'mixed')).sort(), ['hello.txt', 'local.txt'], 'local and remote sources together');

  const again = p.build(['-t', 'add-url:1']);
  t.equal(again.status, 0, again.stderr);
  t.equal(count(again.stderr, 'CACHED'), 7, 'the same downloads hit the cache');
  fs.writeFileSync(path.join(served, 'late.txt'), 'second\n');
  const changed = p.build(['-t', 'add-url:1']);
  t.equal(changed.status, 0, changed.stderr);
  t.equal(count(changed.stderr, 'CACHED'), 6, 'a changed download rebuilds from the step that fetches it');
  t.equal(fs.readFileSync(path.join(p.unpack('add-url:1'), 'late.txt'), 'utf8'), 'second\n');

  t.test('--checksum', async (t) => {
    const good = project(t, { Dockerfile: `FROM scratch\nADD --checksum=${sha256('hello over http\n')} ${base}/files/hello.txt /checked\n` });
    t.equal(good.build([]).status, 0, 'a matching checksum passes');
    const wrong = sha256('something else');
    const bad = project(t, { Dockerfile: `FROM scratch\nADD --checksum=${wrong} ${base}/files/hello.txt /checked\n` });
    const r = bad.build(['-t', 'bad:1']);
    t.equal(r.status, 1, 'a mismatch fails the build');
    t.match(r.stderr, new RegExp(`checksum mismatch: expected ${wrong}, got ${sha256('hello over http\n')}`));
    const local = project(t, { Dockerfile: `FROM scratch\nADD --checksum=${wrong} x /x\n`, x: 'x' });
    t.match(local.build([]).stderr, /ADD --checksum needs exactly one source, an http\(s\) URL/, 'only for a URL');
  });

  t.test('what cannot be downloaded fails with the reason', async (t) => {
    const port = await freePort();
    for (const [url, reason] of [
      [`${base}/files/missing.txt`, /the server answered 404 Not Found/],
      [`http://127.0.0.1:${port}/x`, /cannot download: .*ECONNREFUSED/],
      ['https://example.invalid/repo.git#main', /git fetch: .*example\.invalid/],
    ] as const) {
      const p = project(t, { Dockerfile: `FROM scratch\nADD ${url} /x\n` });
      const r = p.build(['-t', 'unreachable:1']);
      t.equal(r.status, 1, `ADD ${url} fails`);
      t.match(r.stderr.trim().split('\n').pop(), reason, 'the last line says why');
      t.match(r.stderr, /tsbuild: error: Dockerfile:2: ADD /, 'naming the Dockerfile line');
      const images = spawnSync(TSBUILD, ['images', '--root', p.root], { encoding: 'utf8' });
      t.equal(images.status, 0);
      t.notMatch(images.stdout, /unreachable/, 'nothing is tagged');
    }
  });
});

/** A small gzipped tar in the served directory, returned as its bytes. */
function packedArchive(dir: string): Buffer {
  fs.writeFileSync(path.join(dir, 'inside.txt'), 'packed\n');
  const archive = path.join(dir, 'bundle.tar.gz');
  if (spawnSync('tar', ['-czf', archive, '-C', dir, 'inside.txt']).status !== 0) throw new Error('tar -czf failed');
  return fs.readFileSync(archive);
}
