// A stack of extracted layers in overlayfs' format (whiteouts as 0/0 character devices, opaque
// directories marked with trusted.overlay.opaque=y), read as overlayfs merges them, without a mount:
// for extracting a layer on top of the stack (the metadata of a parent directory it lacks, the file
// a hard link names in a lower layer).
import fs from 'node:fs';
import path from 'node:path';
import { getXattr } from './xattr.js';

/**
 * overlayfs' own attributes (opaque directories, redirects, metacopy): never a layer's content, as
 * a layer that set them would steer the overlay its snapshot is part of.
 */
export const OVERLAY_XATTR_PREFIX = 'trusted.overlay.';
export const OPAQUE_XATTR = `${OVERLAY_XATTR_PREFIX}opaque`;

/** Whether `stat` is an overlayfs whiteout: a character device numbered 0/0. */
const isWhiteout = (stat: fs.Stats) => stat.isCharacterDevice() && stat.rdev === 0;

const isOpaque = (dir: string) => getXattr(dir, OPAQUE_XATTR)?.toString() === 'y';

/**
 * The path of `parts` (safe components, relative to the root) in the topmost of `layers` (top
 * first) that shows it, as the merged overlay would: null when no layer has it, or when a layer
 * above the one that has it hides it (a whiteout, a non-directory or an opaque directory on the way).
 * Symlinks on the way are not followed: they end the lookup, as a layer's own entries do.
 */
export function findInLayers(layers: readonly string[], parts: readonly string[]): { path: string; stat: fs.Stats } | null {
  for (const layer of layers) {
    let dir = layer;
    let hiddenBelow = false;
    for (let depth = 0; depth < parts.length; depth++) {
      const at = path.join(dir, parts[depth] as string);
      const stat = fs.lstatSync(at, { throwIfNoEntry: false });
      if (!stat) break;
      if (isWhiteout(stat)) return null;
      if (depth === parts.length - 1) return { path: at, stat };
      if (!stat.isDirectory()) return null;
      if (isOpaque(at)) hiddenBelow = true;
      dir = at;
    }
    if (hiddenBelow) return null;
  }
  return null;
}
