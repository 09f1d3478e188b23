// Replacing a file whole: written under a temporary name beside it, then renamed onto it, so a
// reader sees the old file or the new one, never a part, and a writer killed half-way leaves the
// old file as it was (and at most a hidden temp file, named after its writer).
import fs from 'node:fs';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** The new file's mode, before the umask (0o644 unless given). */
  mode?: number;
  /**
   * fsync the data before the rename and the directory after it: the file must survive a crash
   * of the machine, not only of the process (an image index, credentials). Costs a disk flush.
   */
  durable?: boolean;
  /**
   * Names the writer in the temp file's name (".NAME.<writer>-<random>.tmp"), so that a later
   * sweep can tell the leftovers of a dead writer; the pid unless given.
   */
  writer?: string;
}

/**
 * A hidden temp name in `file`'s directory: renaming it onto `file` is atomic. The random part
 * comes from the global Web Crypto, not node:crypto, whose import costs ~12 ms of start-up under
 * Bun, and the state store writes through here on every tsrunc call that changes a container.
 */
function tempBeside(file: string, writer: string): string {
  const random = Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString('hex');
  return path.join(path.dirname(file), `.${path.basename(file)}.${writer}-${random}.tmp`);
}

function fsyncPath(target: string, flags: number): void {
  const fd = fs.openSync(target, flags);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes the rename itself durable: it is a change of the directory. */
function fsyncDir(file: string): void {
  fsyncPath(path.dirname(file), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
}

/** Replaces `file` with `data`. Errors are the file system's, after the temp file is removed. */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const tmp = tempBeside(file, options.writer ?? String(process.pid));
  try {
    // "wx": the temp name is created here, never an existing file or a link someone planted there.
    const fd = fs.openSync(tmp, 'wx', options.mode ?? 0o644);
    try {
      fs.writeFileSync(fd, data);
      if (options.durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  if (options.durable) fsyncDir(file);
}

/**
 * Replaces `file` with what `write` writes to the temp path it is given (a stream, a tool's
 * output): a failure or a kill meanwhile leaves the old file and no partial one. `write` creates
 * the temp file itself, with the mode it wants.
 */
export async function replaceFile(file: string, write: (tmp: string) => Promise<unknown>, options: Omit<AtomicWriteOptions, 'mode'> = {}): Promise<void> {
  const tmp = tempBeside(file, options.writer ?? String(process.pid));
  try {
    await write(tmp);
    if (options.durable) fsyncPath(tmp, fs.constants.O_RDONLY);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  if (options.durable) fsyncDir(file);
}
