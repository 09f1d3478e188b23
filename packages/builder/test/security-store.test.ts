// Attacks on the content store and on layer extraction:
//  - an OCI layout whose blob does not match its digest (FROM oci-layout://) must not poison the
//    store, where a later build FROM a legitimate image would have run the hostile layer;
//  - a blob corrupted in the store is reported when a layer is read, never applied;
//  - a directory's deferred time must not follow a symlink that replaced the directory later in
//    the same layer (it changed the mtime of a host directory).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import tar from 'tar-stream';
import { extractLayer } from '../src/image/layer-reader.js';
import { BlobStore, sha256Digest } from '../src/image/store.js';
import { project } from './project.js';

type Entry = { name: string; type: 'file' | 'directory' | 'symlink'; linkname?: string; body?: string; mtime?: Date };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    pack.entry({ name: e.name, type: e.type, mode: e.type === 'directory' ? 0o755 : 0o644, mtime: e.mtime ?? new Date(0), ...(e.linkname ? { linkname: e.linkname } : {}) }, e.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Writes an OCI layout with one image of one uncompressed layer, tagged "1". `layerBytes` is what
 * the layer's blob file holds; the manifest names `layerDigest` (its digest when not given).
 */
function writeLayout(dir: string, layerBytes: Buffer, layerDigest = sha256Digest(layerBytes)): void {
  const blobs = path.join(dir, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const put = (digest: string, bytes: Buffer) => fs.writeFileSync(path.join(blobs, digest.slice('sha256:'.length)), bytes);
  put(layerDigest, layerBytes);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layerDigest] }, history: [{ created_by: 'test' }],
  }));
  put(sha256Digest(config), config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layerBytes.length }],
  }));
  put(sha256Digest(manifest), manifest);
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Digest(manifest), size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': '1' } }],
  }));
}

const storeBlobs = (root: string) => fs.readdirSync(path.join(root, 'layout', 'blobs', 'sha256'));
const storeTemps = (root: string) => fs.readdirSync(path.join(root, 'layout', 'tmp'), { withFileTypes: true }).map((d) => d.name);

t.test('a hostile oci-layout cannot poison the store for a later legitimate build', async (t) => {
  const legitLayer = await tarOf([{ name: 'app.txt', type: 'file', body: 'legit\n' }]);
  const hostileLayer = await tarOf([{ name: 'app.txt', type: 'file', body: 'pwned\n' }]);
  t.equal(hostileLayer.length, legitLayer.length, 'the hostile blob even has the legitimate size');
  const legitDigest = sha256Digest(legitLayer);

  const hostile = project(t, { Dockerfile: 'FROM oci-layout://HOSTILE:1\nCMD ["/app"]\n' });
  const hostileDir = path.join(hostile.dir, 'hostile');
  writeLayout(hostileDir, hostileLayer, legitDigest); // the hostile bytes under the legitimate digest
  const legitDir = path.join(hostile.dir, 'legit');
  writeLayout(legitDir, legitLayer);
  const dockerfile = path.join(hostile.dir, 'ctx', 'Dockerfile');
  fs.writeFileSync(dockerfile, `FROM oci-layout://${hostileDir}:1\nCMD ["/app"]\n`);

  const refused = hostile.build(['-t', 'hostile:1']);
  t.equal(refused.status, 1, 'the build from the hostile layout fails');
  const error = refused.stderr.trim().split('\n').filter((l) => l.startsWith('tsbuild: error:'));
  t.equal(error.length, 1, 'with one error line');
  t.match(error[0], legitDigest, 'naming the digest');
  t.match(error[0], path.join(hostileDir, 'blobs', 'sha256', legitDigest.slice(7)), 'and the file');
  t.notOk(storeBlobs(hostile.root).includes(legitDigest.slice(7)), 'the store holds no blob under that digest');
  t.same(storeTemps(hostile.root), [], 'and no partial copy in its temp dir');

  // The same store, now FROM the legitimate image: it must get the legitimate layer.
  fs.writeFileSync(dockerfile, `FROM oci-layout://${legitDir}:1\nCMD ["/app"]\n`);
  const legit = hostile.build(['-t', 'legit:1']);
  t.equal(legit.status, 0, legit.stderr);
  t.equal(fs.readFileSync(path.join(hostile.unpack('legit:1'), 'app.txt'), 'utf8'), 'legit\n', 'the legitimate build runs the legitimate layer');
  t.equal(sha256Digest(fs.readFileSync(path.join(hostile.root, 'layout', 'blobs', 'sha256', legitDigest.slice(7)))), legitDigest, 'the stored blob matches its digest');
});

t.test('a blob corrupted in the store is reported when its layer is read, not used', async (t) => {
  const p = project(t, { Dockerfile: '' });
  const layer = await tarOf([{ name: 'app.txt', type: 'file', body: 'legit\n' }]);
  writeLayout(path.join(p.dir, 'image'), layer);
  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), `FROM oci-layout://${path.join(p.dir, 'image')}:1\nCMD ["/app"]\n`);
  const built = p.build(['-t', 'img:1']);
  t.equal(built.status, 0, built.stderr);
  const stored = path.join(p.root, 'layout', 'blobs', 'sha256', sha256Digest(layer).slice(7));
  fs.writeFileSync(stored, await tarOf([{ name: 'app.txt', type: 'file', body: 'pwned\n' }]));
  const unpacked = (() => {
    try {
      return p.unpack('img:1');
    } catch (err) {
      return (err as Error).message;
    }
  })();
  t.match(unpacked, /tsbuild: error: /, 'unpack fails with one error line');
  t.match(unpacked, `blob ${sha256Digest(layer)} is corrupt: ${stored} hashes to sha256:`, 'naming the corrupt blob and its file');
  t.same(fs.readdirSync(p.dir).filter((n) => n.startsWith('bundle-')).flatMap((b) => fs.readdirSync(path.join(p.dir, b, 'rootfs'), { recursive: true, encoding: 'utf8' })), [], 'and applied none of it');
});

t.test("the store's verified import refuses what does not match the descriptor and leaves nothing", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-import-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const store = new BlobStore(path.join(dir, 'store'));
  const good = Buffer.from('the descriptor describes these bytes\n');
  const ref = { digest: sha256Digest(good), size: good.length };
  const source = path.join(dir, 'blob');

  fs.writeFileSync(source, Buffer.from(good).fill('x', 0, 3));
  await t.rejects(store.importFile(source, ref), new RegExp(`blob ${ref.digest} from ${source}: the content is sha256:[0-9a-f]{64} \\(${good.length} bytes\\)`), 'other bytes of the same size');
  fs.writeFileSync(source, Buffer.concat([good, Buffer.from('more')]));
  await t.rejects(store.importFile(source, ref), /the file has \d+ bytes, not what its descriptor says/, 'a longer file');
  fs.rmSync(source);
  fs.symlinkSync('/etc/passwd', source);
  await t.rejects(store.importFile(source, ref), /ELOOP/, 'a symlink in place of the blob');
  t.notOk(store.has(ref.digest), 'nothing was stored');
  t.same(fs.readdirSync(path.join(dir, 'store', 'tmp')), [], 'and no temp file is left');

  fs.rmSync(source);
  fs.writeFileSync(source, good);
  await store.importFile(source, ref);
  t.equal(fs.readFileSync(store.path(ref.digest), 'utf8'), good.toString(), 'the matching blob is stored');
});

t.test("a directory's time does not follow a symlink that replaced it later in the layer", async (t) => {
  const box = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-dirtimes-'));
  t.teardown(() => fs.rmSync(box, { recursive: true, force: true }));
  const target = path.join(box, 'target');
  fs.mkdirSync(target);
  // Host directories outside the target, with times the layer must not change.
  const host = path.join(box, 'host');
  fs.mkdirSync(path.join(host, 'sub'), { recursive: true });
  const hostTime = new Date('2010-01-01T00:00:00Z');
  for (const dir of [host, path.join(host, 'sub')]) fs.utimesSync(dir, hostTime, hostTime);
  const layerTime = new Date('2001-01-01T00:00:00Z');
  const kept = new Date('2002-02-02T00:00:00Z');

  const layer = await tarOf([
    { name: 'abs/', type: 'directory', mtime: layerTime },
    { name: 'abs', type: 'symlink', linkname: host },
    { name: 'rel/', type: 'directory', mtime: layerTime },
    { name: 'rel', type: 'symlink', linkname: '../host' },
    { name: 'parent/sub/', type: 'directory', mtime: layerTime },
    { name: 'parent', type: 'symlink', linkname: host },
    { name: 'keep/', type: 'directory', mtime: kept },
  ]);
  await extractLayer(Readable.from([layer]), target);

  for (const dir of [host, path.join(host, 'sub')]) {
    t.equal(fs.statSync(dir).mtime.getTime(), hostTime.getTime(), `${dir} keeps its mtime`);
  }
  t.equal(fs.readlinkSync(path.join(target, 'abs')), host, 'the symlinks are in the target as written');
  t.equal(fs.readlinkSync(path.join(target, 'rel')), '../host');
  t.equal(fs.statSync(path.join(target, 'keep')).mtime.getTime(), kept.getTime(), 'a directory that stayed one gets its time');
  t.same(fs.readdirSync(box).sort(), ['host', 'target'], 'nothing appeared beside the target');
});
