// Hostile layers built by hand: every one must be refused with an error naming the entry,
// and nothing may be written outside the extraction target.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { extractLayer } from '../src/image/layer-reader.js';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; body?: string };

async function layer(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    pack.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: 0o644 }, e.body ?? (e.type === 'file' || !e.type ? 'pwned\n' : ''));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function passwdHash(): Promise<string> {
  return createHash('sha256').update(await readFile('/etc/passwd')).digest('hex');
}

const cases: { title: string; entries: Entry[]; error: RegExp }[] = [
  { title: 'parent traversal', entries: [{ name: '../evil' }], error: /layer entry \.\.\/evil: path contains '\.\.'/ },
  { title: 'absolute path', entries: [{ name: '/abs' }], error: /layer entry \/abs: absolute path/ },
  { title: 'traversal hidden behind a directory', entries: [{ name: 'a/../../evil' }], error: /layer entry a\/\.\.\/\.\.\/evil/ },
  {
    title: 'write through a symlink planted by the same layer',
    entries: [{ name: 'link', type: 'symlink', linkname: '/' }, { name: 'link/etc/passwd' }],
    error: /layer entry link\/etc\/passwd: parent link is a symlink/,
  },
  {
    title: 'write through a relative symlink to the outside',
    entries: [{ name: 'up', type: 'symlink', linkname: '..' }, { name: 'up/evil' }],
    error: /layer entry up\/evil: parent up is a symlink/,
  },
  { title: 'hard link to an absolute host path', entries: [{ name: 'pw', type: 'link', linkname: '/etc/passwd' }], error: /layer entry pw: absolute path/ },
  { title: 'hard link out of the target', entries: [{ name: 'x', type: 'link', linkname: '../x' }], error: /layer entry x: path contains '\.\.'/ },
  {
    title: 'hard link through a symlink',
    entries: [{ name: 'root', type: 'symlink', linkname: '/' }, { name: 'pw', type: 'link', linkname: 'root/etc/passwd' }],
    error: /layer entry pw: parent root is a symlink/,
  },
  { title: 'whiteout escaping', entries: [{ name: 'a/.wh...' }], error: /layer entry a\/\.wh\.\.\.: malformed whiteout/ },
];

t.test('hostile layers are refused', async (t) => {
  const sandbox = await mkdtemp(join(tmpdir(), 'tsbuild-hostile-'));
  t.teardown(() => rm(sandbox, { recursive: true, force: true }));
  const passwdBefore = await passwdHash();

  for (const [i, c] of cases.entries()) {
    for (const gzip of [false, true]) {
      t.test(`${c.title}${gzip ? ' (gzip)' : ''}`, async (t) => {
        const box = join(sandbox, `case-${i}-${gzip}`);
        const target = join(box, 'target');
        await mkdir(target, { recursive: true });
        const bytes = await layer(c.entries);
        await t.rejects(extractLayer(Readable.from([gzip ? gzipSync(bytes) : bytes]), target), c.error);
        t.same(await readdir(box), ['target'], 'nothing appeared beside the target');
      });
    }
  }

  t.test('host files are untouched', async (t) => {
    t.equal(await passwdHash(), passwdBefore);
    t.same((await readdir(sandbox)).filter((n) => !n.startsWith('case-')), []);
  });
});

t.test('a symlink that points outside is stored verbatim, not followed', async (t) => {
  const target = await mkdtemp(join(tmpdir(), 'tsbuild-symlink-'));
  t.teardown(() => rm(target, { recursive: true, force: true }));
  await extractLayer(Readable.from([await layer([{ name: 'etc', type: 'symlink', linkname: '../../etc' }])]), target);
  t.equal(await readlink(join(target, 'etc')), '../../etc');
});
