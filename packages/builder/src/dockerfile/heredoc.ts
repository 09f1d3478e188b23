// Heredocs: `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` words on RUN/COPY/ADD lines. Their bodies are
// the raw lines following the (continuation-joined) instruction, one heredoc after another.

import { Problem } from './errors.js';
import type { LineSource } from './lines.js';
import type { Heredoc } from './types.js';
import { hasOpenQuote, splitRawWords, unquoteWord } from './words.js';

export interface HeredocMarker {
  name: string;
  expand: boolean;
  chomp: boolean;
}

// An optional file descriptor (`3<<EOF`) is accepted like BuildKit does; the name runs to the end of the word.
const MARKER = /^\d*<<(-?)([^<]+)$/;

/** Parses one word as a heredoc marker, or returns undefined. */
export function parseHeredocMarker(word: string, escape: string): HeredocMarker | undefined {
  const match = MARKER.exec(word);
  if (!match) return undefined;
  const written = match[2] ?? '';
  if (hasOpenQuote(written, escape)) return undefined;
  const name = unquoteWord(written, escape);
  if (name === '') return undefined;
  // Any quoting of the delimiter turns expansion of the body off, as in the shell.
  return { name, expand: name === written, chomp: match[1] === '-' };
}

/**
 * The heredoc markers among the words of `args`. `<<` must touch its name (`<< EOF` is a shell
 * redirection of a word, no heredoc), and a line with a quote left open has none, as BuildKit,
 * whose lexer then yields no words at all, reads it.
 */
export function findHeredocMarkers(args: string, escape: string): HeredocMarker[] {
  if (hasOpenQuote(args, escape)) return [];
  return splitRawWords(args, escape).flatMap((word) => {
    const marker = parseHeredocMarker(word, escape);
    return marker ? [marker] : [];
  });
}

const stripTabs = (line: string): string => line.replace(/^\t+/, '');

/** Consumes the bodies of `markers` from `source`; throws when the input ends before a delimiter. */
export function readHeredocBodies(markers: readonly HeredocMarker[], source: LineSource): Heredoc[] {
  return markers.map((marker) => {
    let content = '';
    for (let raw = source.nextRaw(); raw; raw = source.nextRaw()) {
      const line = marker.chomp ? stripTabs(raw.text) : raw.text;
      if (line === marker.name) return { name: marker.name, content, expand: marker.expand, chomp: marker.chomp };
      content += line + '\n';
    }
    throw new Problem(`unterminated heredoc ${marker.name}`);
  });
}
