// Shared plumbing for producing tar streams with tar-stream: adding entries with proper
// completion/error handling, and running a pack into a Node writable.
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { O } from '@tsrunc/runtime/platform';

/** How much of a file is read at a time into the tar. */
const FILE_CHUNK = 1 << 20;
/**
 * Files up to this size are read whole, in one synchronous call, into a buffer of their size: a
 * stream costs a buffer of FILE_CHUNK and several thread-pool round trips per file, which for a
 * layer of many small files was most of its time (mainly in the garbage collector).
 */
const WHOLE_FILE = 256 << 10;
/**
 * The tar is handed on in pieces of at least this much: a header and a small file's body are a
 * few hundred bytes each, and each write to gzip is a round trip to the thread pool.
 */
const OUTPUT_CHUNK = 1 << 20;

/** A tar header as tar-stream accepts it; `pax` holds extra PAX key=value text records. */
export type TarHeader = Omit<Partial<tar.Header>, 'pax'> & { name: string; pax?: Record<string, string> };

/**
 * The `size` bytes of the small file at `file`, in one read: asked for one byte more, a read that
 * returns `size` has met the end. As tar-stream checks a streamed body, the file must still be
 * the size its header says.
 */
function readSmallFile(file: string, size: number): Buffer {
  const fd = openSync(file, O.RDONLY | O.NOFOLLOW | O.CLOEXEC);
  try {
    const bytes = Buffer.allocUnsafe(size + 1);
    // Read at least once, so that a file grown from empty is caught too.
    let got = 0;
    let n;
    do got += n = readSync(fd, bytes, got, size + 1 - got, null); while (n !== 0 && got < size);
    if (got !== size) throw new Error(`${file}: size changed while archived (${size} bytes, then ${got > size ? 'more' : got})`);
    return bytes.subarray(0, size);
  } finally {
    closeSync(fd);
  }
}

/** Adds one entry whose body is `body`: bytes, the content of the host file `file`, or what `stream` reads. */
export async function addEntry(pack: tar.Pack, header: TarHeader, body: { bytes: Buffer } | { file: string } | { stream: Readable }): Promise<void> {
  if ('file' in body && header.size !== undefined && header.size <= WHOLE_FILE) body = { bytes: readSmallFile(body.file, header.size) };
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null): void => (err ? reject(err) : resolve());
    if ('bytes' in body) {
      pack.entry(header, body.bytes, done);
      return;
    }
    // tar-stream fails the entry itself if the file's length differs from header.size.
    const sink = pack.entry(header, done);
    // The pack failing (its output's disk full, say) fails the entry too: an error to reject
    // with, not an unheard 'error' event that ends the process.
    // Large reads: a layer of big files is read through the thread pool, each read a round trip.
    const source = 'file' in body ? createReadStream(body.file, { highWaterMark: FILE_CHUNK }) : body.stream;
    sink.on('error', (err: Error) => {
      source.destroy();
      reject(err);
    });
    source.on('error', (err: Error) => {
      sink.destroy(err);
      reject(err);
    });
    source.pipe(sink);
  });
}

/**
 * Streams a tar built by `fill` into `out` (ending it), passing every output chunk to
 * `observe` on the way (for hashing). If `fill` fails the tar is abandoned and the error rethrown.
 */
export async function packInto(out: NodeJS.WritableStream, fill: (pack: tar.Pack) => Promise<void>, observe?: (chunk: Buffer) => void): Promise<void> {
  const pack = tar.pack();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const handOn = (stream: Transform): void => {
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    observe?.(chunk);
    stream.push(chunk);
  };
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= OUTPUT_CHUNK) handOn(this);
      cb();
    },
    flush(cb) {
      if (pendingBytes > 0) handOn(this);
      cb();
    },
  });
  const flowing = pipeline(pack as AsyncIterable<Buffer>, tap, out);
  flowing.catch(() => undefined); // awaited below; this only avoids an unhandled-rejection report meanwhile
  try {
    await fill(pack);
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await flowing.catch(() => undefined);
    throw err;
  }
  await flowing;
}
