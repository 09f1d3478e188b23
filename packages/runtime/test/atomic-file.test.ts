// Files replaced whole (sys/atomic-file.ts), on a real directory: the new content and mode appear
// at once under a new inode, and a failure leaves the old file and no temp file. Needs no root.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { replaceFile, writeFileAtomic } from '../src/sys/atomic-file.js';

function scratch(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-file-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('writeFileAtomic replaces the file under a new inode, with the mode asked for', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'state.json');
  fs.writeFileSync(file, 'old');
  const reader = fs.openSync(file, 'r');
  t.teardown(() => fs.closeSync(reader));
  writeFileAtomic(file, '{"new":true}', { mode: 0o600 });
  t.equal(fs.readFileSync(file, 'utf8'), '{"new":true}');
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'mode 0600');
  t.equal(fs.readFileSync(reader, 'utf8'), 'old', 'a reader that opened the old file still reads all of it');
  writeFileAtomic(file, Buffer.from('bytes'), { durable: true, writer: '12-34' });
  t.equal(fs.readFileSync(file, 'utf8'), 'bytes', 'durable: the same, flushed');
  t.equal(fs.statSync(file).mode & 0o777, 0o644 & ~process.umask(), 'mode 0644 (less the umask) unless given');
  t.same(fs.readdirSync(dir), ['state.json'], 'no temp file is left');
});

t.test('a failed writeFileAtomic leaves what was there and no temp file', async (t) => {
  const dir = scratch(t);
  const target = path.join(dir, 'taken');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'inside'), 'kept');
  t.throws(() => writeFileAtomic(target, 'data'), { code: 'EISDIR' }, 'a file is not renamed over a directory');
  t.equal(fs.readFileSync(path.join(target, 'inside'), 'utf8'), 'kept');
  t.same(fs.readdirSync(dir), ['taken'], 'no temp file is left');
  t.throws(() => writeFileAtomic(path.join(dir, 'missing', 'file'), 'data'), { code: 'ENOENT' });
});

t.test('replaceFile writes through a hidden temp file beside the target, named after its writer', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'image.tar');
  fs.writeFileSync(file, 'previous');
  let seen = '';
  await replaceFile(file, async (tmp) => {
    seen = tmp;
    t.equal(fs.readFileSync(file, 'utf8'), 'previous', 'the target is untouched while the temp file is written');
    await fs.promises.writeFile(tmp, 'archive', { flag: 'wx' });
  }, { writer: '4242-99', durable: true });
  t.equal(path.dirname(seen), dir);
  t.match(path.basename(seen), /^\.image\.tar\.4242-99-[0-9a-f]{12}\.tmp$/);
  t.equal(fs.readFileSync(file, 'utf8'), 'archive');
  t.same(fs.readdirSync(dir), ['image.tar']);
});

t.test('a failed replaceFile leaves the previous file and no partial one', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'image.tar');
  fs.writeFileSync(file, 'previous');
  await t.rejects(replaceFile(file, async (tmp) => {
    await fs.promises.writeFile(tmp, 'half an archi');
    throw new Error('the writer failed');
  }), /the writer failed/);
  t.equal(fs.readFileSync(file, 'utf8'), 'previous');
  t.same(fs.readdirSync(dir), ['image.tar'], 'the partial temp file is removed');
});
