// A tree a layer was just archived from (a COPY's staging tree, a RUN's overlay upper directory),
// made into what extracting that layer as a snapshot (layer-reader.ts, overlay format) would
// make, so that the store keeps it as the layer's snapshot and never extracts the layer: BuildKit
// likewise keeps the snapshot a step wrote and only archives it. What the archive does not
// carry goes: each entry's mtime becomes the one its entry records (where it differs, both times
// are set, as extraction sets them; an atime alone is not worth a write: reading moves it), an
// xattr the entry does not record is removed (overlayfs' own bookkeeping, values that are not
// text), but for the opaque mark of an upper directory, which extraction sets again.
import fs, { type BigIntStats } from 'node:fs';
import { OPAQUE_XATTR } from './layer-stack.js';
import { recordedMtime, recordsOwnMtime, recordsXattr, WHITEOUT_PREFIX, type LayerTreeKind, type TreeVisitor } from './layer-writer.js';
import { getXattr, listXattrs, removeXattr } from './xattr.js';

/**
 * Settles a tree as its layer's extraction, entry by entry as the layer's walk archives it
 * (layer-writer.ts), so that the tree is read once. `fit` turns false where the tree cannot be
 * that extraction: a name the layer records as a whiteout although the tree holds a file there
 * (the tree is then only fit to be removed). Nothing follows a symlink.
 */
export class ExtractionSettler implements TreeVisitor {
  fit = true;

  constructor(private readonly kind: LayerTreeKind, private readonly sourceDateEpoch: number | undefined) {}

  /** The root is no entry of the layer: extraction makes it bare. */
  root(dir: string): void {
    for (const name of listXattrs(dir)) removeXattr(dir, name);
  }

  entry(at: string, name: string, st: BigIntStats, xattrs: readonly string[]): void {
    // An upper directory's whiteout (a 0/0 device) is made again by extraction, as it is.
    if (this.kind === 'overlay-upper' && st.isCharacterDevice() && st.rdev === 0n) return;
    if (name.startsWith(WHITEOUT_PREFIX)) this.fit = false;
    if (!this.fit) return;
    for (const xattr of xattrs) {
      const value = getXattr(at, xattr);
      if (value === null || recordsXattr(xattr, value)) continue;
      const opaque = this.kind === 'overlay-upper' && st.isDirectory() && xattr === OPAQUE_XATTR && value.toString() === 'y';
      if (!opaque) removeXattr(at, xattr);
    }
    // Already so (a file linked from a snapshot, a copy of one): left alone, atime and all.
    if (recordsOwnMtime(st, this.sourceDateEpoch)) return;
    const mtime = recordedMtime(Number(st.mtimeMs), this.sourceDateEpoch);
    fs.lutimesSync(at, mtime, mtime);
  }
}
