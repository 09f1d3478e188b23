// The CLI's output, written straight to fds 1 and 2. Not process.stdout/stderr: under Bun the
// first touch of either builds a stream and costs ~10 ms of a call that takes ~15 ms in all
// (bench/runtime.mjs), and a runtime's output is a few lines written before it exits.
import fs from 'node:fs';

const RETRY_PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** All of `text` to `fd`, waiting out EAGAIN should the caller have handed us a non-blocking pipe. */
export function writeAll(fd: number, text: string): void {
  let data = Buffer.from(text);
  while (data.length > 0) {
    try {
      data = data.subarray(fs.writeSync(fd, data));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(RETRY_PAUSE, 0, 0, 1);
    }
  }
}

export function writeStdout(text: string): void {
  writeAll(1, text);
}

export function writeStderr(text: string): void {
  writeAll(2, text);
}
