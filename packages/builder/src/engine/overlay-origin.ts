// Where a file that a read-only overlay shows lives in its lower directories, so that a COPY of it
// can be a hard link to that very file instead of a copy of its bytes (a stage's node_modules is
// thousands of them). The lowers are the layers' snapshots, which nothing writes again.
//
// The path is looked up in each lower, top first, as overlayfs looks it up: the first lower that
// has an entry there decides. The answer is only taken if it is the inode the overlay itself
// shows (overlayfs reports a lower file's own inode number when its layers share a filesystem),
// so that nothing else, whatever the lowers hold, is ever linked.
import fs from 'node:fs';
import path from 'node:path';

export interface OriginFile {
  path: string;
  stat: fs.BigIntStats;
}

export class OverlayOrigins {
  /** Each lower's device (looked up once): the file found must be on it. */
  private readonly devices = new Map<string, bigint>();

  /** `lowers`: the directories the overlay is made of, top first (a flattened root alone is its own lower). */
  constructor(private readonly lowers: readonly string[]) {}

  /** The file at `rel` (relative to the overlay's root) in the lower it comes from, if `shown` (its lstat through the overlay) is that file. */
  find(rel: string, shown: fs.Stats): OriginFile | undefined {
    for (const lower of this.lowers) {
      const at = path.join(lower, rel);
      let stat: fs.BigIntStats | undefined;
      try {
        stat = fs.lstatSync(at, { bigint: true, throwIfNoEntry: false });
      } catch {
        return undefined; // a component that is not a directory here (a whiteout): overlayfs stops too
      }
      if (stat === undefined) continue;
      const same = stat.isFile() && stat.ino === BigInt(shown.ino) && stat.size === BigInt(shown.size) && stat.dev === this.device(lower);
      return same ? { path: at, stat } : undefined;
    }
    return undefined;
  }

  private device(lower: string): bigint {
    let dev = this.devices.get(lower);
    if (dev === undefined) this.devices.set(lower, dev = fs.statSync(lower, { bigint: true }).dev);
    return dev;
  }
}
