import { OCI_VERSION } from '../state/status.js';

export const TSRUNC_VERSION = '0.1.0';
/** The JS engine the launcher chose, as runc names its Go: "bun: 1.4.5" or "node: v20.20.2". */
const engine = process.versions.bun ? `bun: ${process.versions.bun}` : `node: ${process.version}`;
export const VERSION_TEXT = `tsrunc version ${TSRUNC_VERSION}\nspec: ${OCI_VERSION}\n${engine}\n`;
