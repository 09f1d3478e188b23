import { OCI_VERSION } from '../state/status.js';

const TSRUNC_VERSION = '0.1.0';
/** Stamped by scripts/bundle.mjs (git describe); the unbundled modules do not know it. */
declare const TSRUNC_COMMIT: string | undefined;
const commit = typeof TSRUNC_COMMIT === 'string' ? TSRUNC_COMMIT : 'unknown';
/** runc's lines (version, commit, spec), then the JS engine the launcher chose, as runc names its Go: "bun: 1.4.5". */
const engine = process.versions.bun ? `bun: ${process.versions.bun}` : `node: ${process.version}`;
export const VERSION_TEXT = `tsrunc version ${TSRUNC_VERSION}\ncommit: ${commit}\nspec: ${OCI_VERSION}\n${engine}\n`;
