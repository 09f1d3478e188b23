// `tsbuild --print ast`: the parsed Dockerfile as plain JSON data.

import type { Dockerfile } from './types.js';

/**
 * A deep copy of the parse result that survives JSON.stringify unchanged (no undefined
 * fields), so printing and snapshotting are stable.
 */
export function toAst(df: Dockerfile): unknown {
  return JSON.parse(JSON.stringify(df)) as unknown;
}
