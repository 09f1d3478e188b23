// Turns raw source lines into logical instruction lines (continuations joined, comments and
// blank lines dropped) while still letting heredoc readers consume the raw lines that follow.

import type { EscapeChar } from './types.js';

export interface LogicalLine {
  text: string;
  /** 1-based line number of the first physical line. */
  line: number;
}

export interface RawLine {
  text: string;
  line: number;
}

/** Splits on LF or CRLF and drops a leading byte order mark. */
export function splitLines(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  // A trailing newline does not start another line.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const isComment = (line: string): boolean => line.trimStart().startsWith('#');
const isBlank = (line: string): boolean => line.trim() === '';

export class LineSource {
  private index = 0;
  private readonly continuation: RegExp;

  constructor(
    private readonly lines: readonly string[],
    escape: EscapeChar,
  ) {
    // The escape char followed only by spaces/tabs continues the instruction on the next line,
    // unless it is itself escaped: a line ending in `\\` ends the instruction, as in BuildKit,
    // whose rule is that the char before it is not the escape char too.
    this.continuation = new RegExp(`(?:^|[^\\${escape}])(\\${escape}[ \\t]*)$`);
  }

  /** The next physical line as written, used for heredoc bodies. */
  nextRaw(): RawLine | undefined {
    if (this.index >= this.lines.length) return undefined;
    const text = this.lines[this.index] ?? '';
    this.index++;
    return { text, line: this.index };
  }

  /** The next instruction with its continuation lines joined, or undefined at end of input. */
  nextLogical(): LogicalLine | undefined {
    while (this.index < this.lines.length) {
      const first = this.nextRaw();
      if (!first || isBlank(first.text) || isComment(first.text)) continue;
      let { text, continues } = this.stripContinuation(first.text.trimStart());
      while (continues) {
        const next = this.nextRaw();
        if (!next) break;
        // Comments and blank lines inside a continued instruction are skipped, as BuildKit does.
        if (isComment(next.text) || isBlank(next.text)) continue;
        const part = this.stripContinuation(next.text);
        text += part.text;
        continues = part.continues;
      }
      text = text.trimEnd();
      if (text !== '') return { text, line: first.line };
    }
    return undefined;
  }

  private stripContinuation(line: string): { text: string; continues: boolean } {
    const match = this.continuation.exec(line);
    return match ? { text: line.slice(0, line.length - (match[1] ?? '').length), continues: true } : { text: line, continues: false };
  }
}
