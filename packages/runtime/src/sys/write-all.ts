// A whole buffer written to an fd, synchronously: the CLI's output, the sync channel's messages,
// a relayed terminal's bytes. A caller may hand us a non-blocking pipe (a shared stdout): EAGAIN
// is waited out, a millisecond at a time, without an event loop or a poll binding (koffi).
import fs from 'node:fs';

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

export function writeAll(fd: number, data: string | Uint8Array): void {
  let rest = typeof data === 'string' ? Buffer.from(data) : data;
  while (rest.length > 0) {
    try {
      rest = rest.subarray(fs.writeSync(fd, rest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(PAUSE, 0, 0, 1);
    }
  }
}
