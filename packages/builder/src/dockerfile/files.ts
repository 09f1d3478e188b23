// COPY and ADD: `[flags] src... dest`, JSON form, or heredoc sources (`COPY <<EOF /dest`).

import { Problem } from './errors.js';
import { parseHeredocMarker, readHeredocBodies, type HeredocMarker } from './heredoc.js';
import { baseOf, type Request } from './request.js';
import type { AddInstruction, CopyInstruction, Heredoc } from './types.js';
import { parseJsonStringArray, splitRawWords } from './words.js';

interface SourcesAndDest {
  sources: string[];
  dest: string;
  heredocs: Heredoc[];
}

function sourcesAndDest(req: Request): SourcesAndDest {
  const json = parseJsonStringArray(req.args);
  // Shell-form words keep their quotes; the builder expands them (BuildKit only splits on
  // whitespace here, so accepting quoted names with spaces is a strict superset).
  const words = json ?? splitRawWords(req.args, req.ctx.escape);
  if (words.length < 2) {
    throw new Problem(`${req.keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`);
  }
  const dest = words[words.length - 1] ?? '';
  const sources: string[] = [];
  const markers: HeredocMarker[] = [];
  for (const word of words.slice(0, -1)) {
    const marker = json || !req.ctx.heredocSource ? undefined : parseHeredocMarker(word, req.ctx.escape);
    if (marker) markers.push(marker);
    else sources.push(word);
  }
  const heredocs = req.ctx.heredocSource ? readHeredocBodies(markers, req.ctx.heredocSource) : [];
  return { sources, dest, heredocs };
}

export function parseCopy(req: Request): CopyInstruction {
  return { ...baseOf('COPY', req), ...sourcesAndDest(req) };
}

export function parseAdd(req: Request): AddInstruction {
  return { ...baseOf('ADD', req), ...sourcesAndDest(req) };
}
