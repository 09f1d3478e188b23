// Layer round trips on real files: archive a tree covering every file type tar can carry,
// extract it into an empty dir and compare lstat results; check reproducibility and the
// application of whiteouts and opaque markers.
import t from 'tap';
import { createReadStream, createWriteStream, readdirSync, type Stats } from 'node:fs';
import { chmod, chown, link, lstat, lutimes, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { CompressedLayers } from '../src/image/layer-compression.js';
import { extractLayer } from '../src/image/layer-reader.js';
import { storeDirectoryAsLayer, writeLayer } from '../src/image/layer-writer.js';
import { BlobStore } from '../src/image/store.js';
import { getXattr, mknod, setXattr } from '../src/image/xattr.js';

const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const LONG_NAME = `${'long-directory-name-'.repeat(4)}/${'very-long-file-name-'.repeat(5)}.txt`;

/** Builds the reference tree: every file type, special modes, foreign owners, a long and a non-ASCII name. */
async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'bin'), { mode: 0o755 });
  await writeFile(join(root, 'bin/tool'), '#!/bin/sh\necho tool\n');
  await chmod(join(root, 'bin/tool'), 0o4755);
  await link(join(root, 'bin/tool'), join(root, 'bin/tool-hardlink'));
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc/secret'), 'top secret\n');
  await chown(join(root, 'etc/secret'), 1000, 1000);
  await chmod(join(root, 'etc/secret'), 0o600);
  await writeFile(join(root, 'etc/empty'), '');
  await mkdir(join(root, 'home/user'), { recursive: true });
  await chown(join(root, 'home/user'), 1000, 1000);
  await chmod(join(root, 'home/user'), 0o700);
  await symlink('../etc/secret', join(root, 'bin/secret-link'));
  await symlink('../../etc', join(root, 'home/escape')); // resolved only inside a container, kept verbatim
  await mkdir(join(root, 'run'));
  mknod(join(root, 'run/pipe'), S_IFIFO | 0o644, 0, 0);
  await mkdir(join(root, 'dev'));
  mknod(join(root, 'dev/null'), S_IFCHR | 0o666, 1, 3);
  await mkdir(join(root, LONG_NAME, '..'), { recursive: true });
  await writeFile(join(root, LONG_NAME), 'long\n');
  await writeFile(join(root, 'café ☕'), 'unicode\n');
  await writeFile(join(root, 'etc/with-xattr'), 'x\n');
  setXattr(join(root, 'etc/with-xattr'), 'user.tsbuild.test', Buffer.from('hello'));
  // Fixed times so the comparison below also covers mtimes (tar keeps whole seconds).
  const when = new Date('2024-01-02T03:04:05Z');
  for (const rel of await walk(root)) {
    const path = join(root, rel);
    if ((await lstat(path)).isSymbolicLink()) await lutimes(path, when, when);
  }
  for (const rel of (await walk(root)).reverse()) {
    const path = join(root, rel);
    if (!(await lstat(path)).isSymbolicLink()) await utimes(path, when, when);
  }
}

async function walk(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(root, rel))).sort()) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    out.push(childRel);
    if ((await lstat(join(root, childRel))).isDirectory()) out.push(...(await walk(root, childRel)));
  }
  return out;
}

/** Everything about a tree that a layer must preserve, as a comparable plain object. */
async function describe(root: string): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  const inodes = new Map<number, string>();
  for (const rel of await walk(root)) {
    const path = join(root, rel);
    const st: Stats = await lstat(path);
    const firstName = inodes.get(st.ino);
    if (!firstName) inodes.set(st.ino, rel);
    result[rel] = {
      mode: st.mode.toString(8),
      uid: st.uid,
      gid: st.gid,
      mtime: Math.floor(st.mtimeMs / 1000),
      nlink: st.isDirectory() ? undefined : st.nlink,
      sameInodeAs: firstName,
      rdev: st.isCharacterDevice() || st.isBlockDevice() ? st.rdev : undefined,
      target: st.isSymbolicLink() ? await readlink(path) : undefined,
      content: st.isFile() ? (await readFile(path)).toString('base64') : undefined,
      xattr: st.isFile() ? getXattr(path, 'user.tsbuild.test')?.toString() : undefined,
    };
  }
  return result;
}

async function layerToFile(root: string, file: string, sourceDateEpoch?: number): Promise<string> {
  const { diffId } = await writeLayer({ root, out: createWriteStream(file), sourceDateEpoch });
  return diffId;
}

/** Lists a tar's entries as "name type" lines in archive order. */
async function listTar(file: string): Promise<string[]> {
  const extract = tar.extract();
  createReadStream(file).pipe(extract);
  const names: string[] = [];
  for await (const entry of extract) {
    names.push(`${entry.header.name} ${entry.header.type}${entry.header.linkname ? ` -> ${entry.header.linkname}` : ''}`);
    entry.resume();
  }
  return names;
}

/** A layer made by hand, for exercising whiteouts. */
async function handLayer(entries: { name: string; type?: 'file' | 'directory'; body?: string }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', mode: e.type === 'directory' ? 0o755 : 0o644 }, e.body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

t.test('layers', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'tsbuild-layer-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));

  const src = join(work, 'src');
  await mkdir(src);
  await makeTree(src);

  t.test('round trip preserves types, modes, owners, links, devices, xattrs and mtimes', async (t) => {
    const tarFile = join(work, 'roundtrip.tar');
    const diffId = await layerToFile(src, tarFile);
    t.match(diffId, /^sha256:[0-9a-f]{64}$/);
    const names = await listTar(tarFile);
    t.ok(names.includes('bin/ directory'), 'directories end with /');
    t.ok(names.includes('bin/tool-hardlink link -> bin/tool'), 'second name of an inode is a hard link');
    t.ok(names.every((n) => !n.startsWith('/') && !n.startsWith('./')), 'paths are relative');
    const dest = join(work, 'roundtrip-dest');
    await mkdir(dest);
    await extractLayer(createReadStream(tarFile), dest);
    t.same(await describe(dest), await describe(src));
  });

  t.test('layers are stored as uncompressed tars, and gzipped reproducibly, once, when an image leaves the store', async (t) => {
    const copy = join(work, 'copy');
    await mkdir(copy);
    await makeTree(copy);
    const store = new BlobStore(join(work, 'store'));
    const epoch = 1_600_000_000;
    const a = await storeDirectoryAsLayer(store, src, 'tree', epoch);
    const b = await storeDirectoryAsLayer(store, copy, 'tree', epoch);
    t.equal(a.descriptor.digest, b.descriptor.digest, 'same tree, same blob digest');
    t.equal(a.descriptor.mediaType, 'application/vnd.oci.image.layer.v1.tar');
    t.equal(a.descriptor.digest, a.diffId, 'the blob is the uncompressed tar: its digest is the diffID');
    await store.verify(a.descriptor.digest);
    const plain = join(work, 'plain.tar');
    t.equal(await layerToFile(src, plain, epoch), a.diffId, 'diffID is the digest of the tar');

    const gzipped = await CompressedLayers.open(store, join(work, 'store')).convert([a.descriptor], 'gzip');
    t.equal(gzipped[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    await store.verify(gzipped[0]!.digest);
    const elsewhere = new BlobStore(join(work, 'store-2'));
    const again = await storeDirectoryAsLayer(elsewhere, copy, 'tree', epoch);
    t.same(await CompressedLayers.open(elsewhere, join(work, 'store-2')).convert([again.descriptor], 'gzip'), gzipped, 'the same tar, the same gzip blob');
    const blobCount = readdirSync(join(work, 'store', 'blobs', 'sha256')).length;
    t.same(await CompressedLayers.open(store, join(work, 'store')).convert([a.descriptor], 'gzip'), gzipped, 'kept: the next export finds it');
    t.equal(readdirSync(join(work, 'store', 'blobs', 'sha256')).length, blobCount, 'and compresses nothing');

    const dest = join(work, 'gzip-dest');
    await mkdir(dest);
    await extractLayer(createReadStream(store.path(gzipped[0]!.digest)), dest);
    const got = await describe(dest);
    t.same(Object.keys(got), Object.keys(await describe(src)));
    t.equal((got['bin/tool'] as { mtime: number }).mtime, epoch, 'mtimes clamped to SOURCE_DATE_EPOCH');
  });

  t.test('whiteouts and opaque markers remove lower-layer content only', async (t) => {
    const dest = join(work, 'whiteout-dest');
    const lower = await handLayer([
      { name: 'a/', type: 'directory' },
      { name: 'a/keep', body: 'k' },
      { name: 'a/gone', body: 'g' },
      { name: 'd/y/', type: 'directory' },
      { name: 'd/y/z', body: 'z' },
      { name: 'opq/', type: 'directory' },
      { name: 'opq/old', body: 'o' },
      { name: 'late/', type: 'directory' },
      { name: 'late/old', body: 'o' },
    ]);
    const upper = await handLayer([
      { name: 'a/.wh.gone' },
      { name: '.wh.d' },
      { name: 'opq/', type: 'directory' },
      { name: 'opq/.wh..wh..opq' },
      { name: 'opq/new', body: 'n' },
      // An opaque marker arriving after this layer's own children must spare them.
      { name: 'late/new', body: 'n' },
      { name: 'late/.wh..wh..opq' },
      { name: 'missing/.wh.nothing' },
    ]);
    await mkdir(dest);
    await extractLayer(Readable.from([lower]), dest);
    await extractLayer(Readable.from([upper]), dest);
    t.same(await walk(dest), ['a', 'a/keep', 'late', 'late/new', 'opq', 'opq/new']);
  });
});
