// mkdir -p whose errors name the real cause: Node's recursive mkdir reports ENOENT when a
// directory cannot be made on a read-only file system, where runc says "read-only file system".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { strerror } from './errno.js';

/** A failed file system call worded as runc words it, naming the path: "mkdir /x: read-only file system". */
export function fsError(op: string, target: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const errno = code === undefined ? undefined : (os.constants.errno as Record<string, number>)[code];
  if (errno === undefined) return err as Error;
  return Object.assign(new Error(`${op} ${target}: ${strerror(errno)}`, { cause: err }), { code });
}

/** Makes `dir` and its missing parents; one that exists already is fine. */
export function makeDirs(dir: string, mode = 0o755): void {
  try {
    fs.mkdirSync(dir, { mode });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code === 'ENOENT' && path.dirname(dir) !== dir) {
      makeDirs(path.dirname(dir), mode);
      makeDirs(dir, mode);
      return;
    }
    throw fsError('mkdir', dir, err);
  }
}
