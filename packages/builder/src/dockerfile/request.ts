// What every per-instruction parser receives: the instruction split into keyword, validated
// flags and the remaining argument text.

import type { LineSource } from './lines.js';
import type { EscapeChar, Flags } from './types.js';

export interface ParseContext {
  escape: EscapeChar;
  /** Where heredoc bodies are read from; absent where heredocs are not allowed (ONBUILD triggers). */
  heredocSource?: LineSource;
}

export interface Request {
  /** Upper-cased instruction keyword. */
  keyword: string;
  line: number;
  original: string;
  flags: Flags;
  /** Argument text after the flags, trimmed. */
  args: string;
  ctx: ParseContext;
}

/** Fields shared by every instruction object built from `req`. */
export function baseOf<K extends string>(kind: K, req: Request): { kind: K; line: number; original: string; flags: Flags } {
  return { kind, line: req.line, original: req.original, flags: req.flags };
}
