// COPY and ADD: `[flags] src... dest`, JSON form, or heredoc sources (`COPY <<EOF /dest`).

import { Problem } from './errors.js';
import { parseHeredocMarker, readHeredocBodies, type HeredocMarker } from './heredoc.js';
import { baseOf, type Request } from './request.js';
import type { AddInstruction, CopyInstruction, Heredoc } from './types.js';
import { hasOpenQuote, parseJsonStringArray, splitWhitespace } from './words.js';

interface SourcesAndDest {
  sources: string[];
  dest: string;
  heredocs: Heredoc[];
}

function sourcesAndDest(req: Request): SourcesAndDest {
  const json = parseJsonStringArray(req.args);
  // Shell-form words are split on whitespace only, as BuildKit splits them: quotes are read when
  // each word is expanded, so a quoted name cannot hold a space (`"a b"` is two words).
  const words = json ?? splitWhitespace(req.args);
  if (words.length < 2) {
    throw new Problem(`${req.keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`);
  }
  const dest = words[words.length - 1] ?? '';
  const sources: string[] = [];
  const markers: HeredocMarker[] = [];
  const source = req.ctx.heredocSource;
  const readsHeredocs = json === undefined && source !== undefined && !hasOpenQuote(req.args, req.ctx.escape);
  for (const word of words.slice(0, -1)) {
    const marker = readsHeredocs ? parseHeredocMarker(word, req.ctx.escape) : undefined;
    if (marker) markers.push(marker);
    else sources.push(word);
  }
  // A heredoc in the destination's place still has its body read, so that the error is this
  // instruction's, at its line, and the body is not taken for instructions.
  const destMarker = readsHeredocs ? parseHeredocMarker(dest, req.ctx.escape) : undefined;
  const heredocs = source ? readHeredocBodies(destMarker ? [...markers, destMarker] : markers, source) : [];
  if (destMarker) throw new Problem(`${req.keyword} cannot accept a heredoc as a destination`);
  return { sources, dest, heredocs };
}

export function parseCopy(req: Request): CopyInstruction {
  return { ...baseOf('COPY', req), ...sourcesAndDest(req) };
}

export function parseAdd(req: Request): AddInstruction {
  return { ...baseOf('ADD', req), ...sourcesAndDest(req) };
}
