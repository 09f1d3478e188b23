import path from 'node:path';
import { writeFileAtomic } from '../sys/atomic-file.js';

/** Written to a temporary name and renamed, as runc does, so that a reader never sees it empty. */
export function writePidFile(file: string, pid: number): void {
  writeFileAtomic(path.resolve(file), String(pid), { mode: 0o644 });
}
