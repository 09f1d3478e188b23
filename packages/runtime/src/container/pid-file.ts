import fs from 'node:fs';
import path from 'node:path';

/** Written to a temporary name and renamed, as runc does, so that a reader never sees it empty. */
export function writePidFile(file: string, pid: number): void {
  const target = path.resolve(file);
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp`);
  fs.writeFileSync(tmp, String(pid), { mode: 0o644 });
  fs.renameSync(tmp, target);
}
