// The layers' gzip (image/parallel-gzip.ts): what it writes is one gzip file to every reader
// (zlib here, GNU gzip), and the same bytes however the input was cut into writes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import t from 'tap';
import { createParallelGzip } from '../src/image/parallel-gzip.js';

/** Gzips `data` written in pieces of `piece` bytes. */
async function gzipInPieces(data: Buffer, piece: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const pieces = function* () {
    for (let offset = 0; offset < data.length; offset += piece) yield data.subarray(offset, offset + piece);
  };
  await pipeline(Readable.from(pieces()), createParallelGzip(2), new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk);
      done();
    },
  }));
  return Buffer.concat(out);
}

/** 3.5 MiB: several blocks and a partial one, half compressible text, half hashes. */
function sample(): Buffer {
  const size = 3.5 * (1 << 20);
  const parts: Buffer[] = [];
  for (let i = 0, length = 0; length < size; i++) {
    parts.push(Buffer.from(`line ${i} of a layer's tar\n`), createHash('sha256').update(String(i)).digest());
    length += parts.at(-2)!.length + 32;
  }
  return Buffer.concat(parts).subarray(0, size);
}

t.test('one gzip file to zlib and to GNU gzip, whatever the writes', async (t) => {
  const data = sample();
  const whole = await gzipInPieces(data, data.length);
  t.ok(zlib.gunzipSync(whole).equals(data), 'zlib reads back the input');
  const gnu = spawnSync('gzip', ['-dc'], { input: whole, maxBuffer: 1 << 26 });
  t.equal(gnu.status, 0, String(gnu.stderr));
  t.ok(gnu.stdout.equals(data), 'GNU gzip reads back the input');
  t.ok(whole.length < data.length * 0.7, `compressed: ${whole.length} of ${data.length} bytes`);
  for (const piece of [1000, 65536, 3 << 20]) {
    t.ok((await gzipInPieces(data, piece)).equals(whole), `written ${piece} bytes at a time: the same bytes`);
  }
});

t.test('no input is an empty gzip file, not no file', async (t) => {
  const empty = await gzipInPieces(Buffer.alloc(0), 1);
  t.ok(empty.length > 0, 'a gzip member is written');
  t.equal(zlib.gunzipSync(empty).length, 0, 'which holds nothing');
});
