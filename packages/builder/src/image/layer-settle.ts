// A tree a layer was just archived from (a COPY's staging tree, a RUN's overlay upper directory),
// made into what extracting that layer as a snapshot (layer-reader.ts, overlay format) would
// make, so that the store keeps it as the layer's snapshot and never extracts the layer: BuildKit
// likewise keeps the snapshot a step wrote and only archives it. What the archive does not
// carry goes: each entry's times become the mtime its entry records (extraction sets both), an
// xattr the entry does not record is removed (overlayfs' own bookkeeping, values that are not
// text), but for the opaque mark of an upper directory, which extraction sets again.
import fs from 'node:fs';
import path from 'node:path';
import { OPAQUE_XATTR } from './layer-stack.js';
import { recordedMtime, recordsXattr, WHITEOUT_PREFIX, type LayerTreeKind } from './layer-writer.js';
import { getXattr, listXattrs, removeXattr } from './xattr.js';

/**
 * Settles the tree at `root` as its layer's extraction; false where it cannot be that: a name
 * the layer records as a whiteout although the tree holds a file there (the tree is then only
 * fit to be removed). Only real directories are entered, and nothing follows a symlink.
 */
export function settleAsExtracted(root: string, kind: LayerTreeKind, sourceDateEpoch: number | undefined): boolean {
  const visit = (dir: string): boolean => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const at = path.join(dir, entry.name);
      const st = fs.lstatSync(at);
      // An upper directory's whiteout (a 0/0 device) is made again by extraction, as it is.
      if (kind === 'overlay-upper' && st.isCharacterDevice() && st.rdev === 0) continue;
      if (entry.name.startsWith(WHITEOUT_PREFIX)) return false;
      for (const name of listXattrs(at)) {
        const value = getXattr(at, name);
        if (value === null || recordsXattr(name, value)) continue;
        const opaque = kind === 'overlay-upper' && st.isDirectory() && name === OPAQUE_XATTR && value.toString() === 'y';
        if (!opaque) removeXattr(at, name);
      }
      if (st.isDirectory() && !visit(at)) return false;
      const mtime = recordedMtime(st.mtimeMs, sourceDateEpoch);
      fs.lutimesSync(at, mtime, mtime);
    }
    return true;
  };
  // The root is no entry of the layer: extraction makes it bare.
  for (const name of listXattrs(root)) removeXattr(root, name);
  return visit(root);
}
