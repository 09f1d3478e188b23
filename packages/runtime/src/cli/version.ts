import { OCI_VERSION } from '../state/status.js';

export const TSRUNC_VERSION = '0.1.0';
export const VERSION_TEXT = `tsrunc version ${TSRUNC_VERSION}\nspec: ${OCI_VERSION}\nnode: ${process.version}\n`;
