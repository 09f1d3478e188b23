// BlobStore: content addressing, atomic placement, and refusal of bad digests and bad content.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from '../src/image/store.js';

const sha = (s: string | Buffer): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

t.test('blob store', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'tsbuild-store-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const store = new BlobStore(root);

  t.test('putBytes stores under blobs/sha256/<hex> and readJson checks the digest', async (t) => {
    const json = Buffer.from('{"a":1}');
    const ref = store.putBytes(json);
    t.same(ref, { digest: sha(json), size: json.length });
    t.equal(store.path(ref.digest), join(root, 'blobs', 'sha256', sha(json).slice(7)));
    t.ok(store.has(ref.digest));
    t.same(store.readJson(ref.digest), { a: 1 });
    t.same(store.putBytes(json), ref, 'storing the same bytes again is a no-op');
    await store.verify(ref.digest);
  });

  t.test('putFile checks the expected digest and leaves no temp files', async (t) => {
    const tmp = store.tempPath();
    await writeFile(tmp, 'layer bytes');
    const ref = await store.putFile(tmp, sha('layer bytes'));
    t.equal(ref.digest, sha('layer bytes'));
    t.notOk(existsSync(tmp), 'temp file moved away');

    const bad = store.tempPath();
    await writeFile(bad, 'other bytes');
    await t.rejects(store.putFile(bad, sha('layer bytes')), /blob digest mismatch/);
    t.notOk(store.has(sha('other bytes')));
    t.same(await readdir(join(root, 'tmp')), [], 'failed put cleans its temp file');
  });

  t.test('malformed digests are refused', async (t) => {
    for (const d of ['sha256:abc', 'sha512:' + 'a'.repeat(128), 'sha256:' + 'A'.repeat(64), 'sha256:../../../etc/passwd', '']) {
      t.throws(() => store.path(d), /malformed digest/, JSON.stringify(d));
    }
    const tmp = store.tempPath();
    await writeFile(tmp, 'x');
    await t.rejects(store.putFile(tmp, 'sha256:nothex'), /malformed digest/);
    await rm(tmp);
  });

  t.test('corruption is detected', async (t) => {
    const ref = store.putBytes(Buffer.from('{"b":2}'));
    await writeFile(store.path(ref.digest), '{"b":3}');
    await t.rejects(store.verify(ref.digest), /is corrupt: .* hashes to sha256:[0-9a-f]{64}; removed it from the store/);
    t.notOk(store.has(ref.digest), 'the corrupt blob is removed, to be made again');
    await writeFile(store.path(ref.digest), '{"b":3}');
    t.throws(() => store.readJson(ref.digest), /is corrupt/);
    t.notOk(store.has(ref.digest), 'by every read path');
    t.same(store.putBytes(Buffer.from('{"b":2}')), ref, 'storing the bytes again brings the blob back');
    t.same(store.readJson(ref.digest), { b: 2 });
  });
});
