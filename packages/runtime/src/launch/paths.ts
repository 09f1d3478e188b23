// Where the runtime's own executables live, found from this module's location so that
// tsrunc works from any working directory and through symlinks to its bin.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SINGLE_BINARY } from '../sys/single-binary.js';

const here = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));

/** packages/runtime/: from the single binary, dist/tsrunc, or from dist/src/launch/ or dist/bundle/chunks/. */
const PACKAGE_DIR = SINGLE_BINARY ? path.resolve(path.dirname(process.execPath), '..') : here('../../../');

export const NSEXEC_BINARY = path.join(PACKAGE_DIR, 'native/out/tsrunc-nsexec');
