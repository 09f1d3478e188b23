// The CLI's output, written straight to fds 1 and 2. Not process.stdout/stderr: under Bun the
// first touch of either builds a stream and costs ~10 ms of a call that takes ~15 ms in all
// (bench/runtime.mjs), and a runtime's output is a few lines written before it exits.
import { writeAll } from '../sys/write-all.js';

export function writeStdout(text: string): void {
  writeAll(1, text);
}

export function writeStderr(text: string): void {
  writeAll(2, text);
}
