// Where the runtime's own executables live, found from this module's location so that
// tsrunc works from any working directory and through symlinks to its bin.
import { fileURLToPath } from 'node:url';

const here = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));

/** dist/src/launch/ -> packages/runtime/ */
export const NSEXEC_BINARY = here('../../../native/out/tsrunc-nsexec');
export const INIT_STAGE = here('../init/main.js');
