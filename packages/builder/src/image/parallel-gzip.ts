// Gzip on every core: the stream is cut into blocks of a fixed size, each compressed as a gzip
// member of its own on the thread pool, several at once, and the members written in order. A
// gzip file may hold several members (RFC 1952 2.2), which every reader of layers takes as one
// stream (Go's compress/gzip, zlib's gunzip, GNU gzip). Block boundaries depend on the bytes
// alone, not on how they were written nor on the number of cores, so equal input gives an equal
// blob. A layer's gzip was the most of a cold build's own time, on one core of several.
import os from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const gzip = promisify(zlib.gzip);
/** Each member's input: large enough that the lost history at each start costs ~0.1% in size. */
const BLOCK = 1 << 20;
/** Blocks compressed at once: the cores, up to the thread pool's default size (4). */
const PARALLEL = Math.max(1, Math.min(4, os.availableParallelism()));

export function createParallelGzip(level: number): Transform {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let blocks = 0;
  /** Members being made, oldest first; each is pushed when it and those before it are done. */
  const running: Promise<Buffer>[] = [];

  const start = (block: Buffer) => {
    const member = gzip(block, { level });
    member.catch(() => undefined); // awaited in order below
    running.push(member);
    blocks++;
  };
  /** Pushes finished members in order, waiting until fewer than `limit` run. */
  async function drain(stream: Transform, limit: number): Promise<void> {
    while (running.length > 0 && running.length >= limit) stream.push(await running.shift()!);
  }

  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < BLOCK) {
        done();
        return;
      }
      const all = Buffer.concat(pending, pendingBytes);
      let offset = 0;
      for (; all.length - offset >= BLOCK; offset += BLOCK) start(all.subarray(offset, offset + BLOCK));
      pending = offset < all.length ? [all.subarray(offset)] : [];
      pendingBytes = all.length - offset;
      drain(this, PARALLEL).then(() => done(), done);
    },
    flush(done: TransformCallback) {
      // The rest, or an empty member where there was no input: the output is a gzip file either way.
      if (pendingBytes > 0 || blocks === 0) start(Buffer.concat(pending, pendingBytes));
      drain(this, 1).then(() => done(), done);
    },
  });
}
