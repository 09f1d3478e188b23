// BuildKit-compatible shell-word expansion, used by the builder on ENV/LABEL/ARG values, COPY
// sources, WORKDIR and so on. RUN's shell form is not expanded here: the shell does that.

import type { EscapeChar } from './types.js';

export type Lookup = (name: string) => string | undefined;

export interface ExpandOptions {
  /**
   * true (default): quotes and escapes are consumed, as for ENV/LABEL values and paths.
   * false: quotes and escape characters are kept in the output (variables are still expanded
   * according to the quoting), for text that is handed to something that re-parses it.
   */
  removeQuotes?: boolean;
}

/** `${VAR:?msg}` failures and malformed substitutions; callers add the file location. */
export class ExpansionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpansionError';
  }
}

const isSpace = (ch: string): boolean => /\s/.test(ch);
const SPECIAL_PARAMS = '@*#?-$!0';
const NAME_CHAR = /[\p{L}\p{N}_]/u;

/** Accumulates both the plain result text and its split into words. */
class Collector {
  text = '';
  readonly words: string[] = [];
  private current = '';
  private inWord = false;

  /** Unquoted source character: whitespace separates words. */
  literal(ch: string): void {
    this.text += ch;
    if (isSpace(ch)) this.endWord();
    else this.append(ch);
  }

  /** Quoted or escaped text: never split, and `""` still makes an (empty) word. */
  quoted(s: string): void {
    this.text += s;
    this.current += s;
    this.inWord = true;
  }

  /** Result of an unquoted substitution: split on whitespace. */
  substituted(s: string): void {
    this.text += s;
    for (const ch of s) {
      if (isSpace(ch)) this.endWord();
      else this.append(ch);
    }
  }

  finish(): { text: string; words: string[] } {
    this.endWord();
    return { text: this.text, words: this.words };
  }

  private append(ch: string): void {
    this.current += ch;
    this.inWord = true;
  }

  private endWord(): void {
    if (this.inWord) this.words.push(this.current);
    this.current = '';
    this.inWord = false;
  }
}

class Expander {
  private pos = 0;
  /** Whether escape characters stay in the output: with the quotes, or in a pattern of ${...}. */
  private rawEscapes: boolean;

  constructor(
    private readonly src: string,
    private readonly lookup: Lookup,
    private readonly escape: EscapeChar,
    private readonly keepQuotes: boolean,
  ) {
    this.rawEscapes = keepQuotes;
  }

  /**
   * Processes until `stop` (consumed) or the end of input when `stop` is undefined. With
   * `rawEscapes`, escapes are kept for a pattern to read (quotes are still removed).
   */
  process(stop?: string, rawEscapes = this.rawEscapes): { text: string; words: string[] } {
    const outer = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.processUntil(stop);
    } finally {
      this.rawEscapes = outer;
    }
  }

  private processUntil(stop: string | undefined): { text: string; words: string[] } {
    const out = new Collector();
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos] ?? '';
      if (stop !== undefined && ch === stop) {
        this.pos++;
        return out.finish();
      }
      if (ch === '$') out.substituted(this.dollar());
      else if (ch === "'") out.quoted(this.singleQuoted());
      else if (ch === '"') out.quoted(this.doubleQuoted());
      else if (ch === this.escape) out.quoted(this.escaped());
      else {
        this.pos++;
        out.literal(ch);
      }
    }
    if (stop !== undefined) throw new ExpansionError(`syntax error: missing '${stop}'${stop === '}' ? '' : ' in ${}'}`);
    return out.finish();
  }

  /** Escape char outside quotes: the next char is literal; a trailing escape is dropped. */
  private escaped(): string {
    const next = this.src[this.pos + 1];
    this.pos += next === undefined ? 1 : 2;
    if (this.rawEscapes) return this.escape + (next ?? '');
    return next ?? '';
  }

  private singleQuoted(): string {
    const end = this.src.indexOf("'", this.pos + 1);
    if (end < 0) throw new ExpansionError('unexpected end of statement while looking for matching single-quote');
    const body = this.src.slice(this.pos + 1, end);
    this.pos = end + 1;
    return this.keepQuotes ? `'${body}'` : body;
  }

  private doubleQuoted(): string {
    let body = '';
    this.pos++;
    for (;;) {
      const ch = this.src[this.pos];
      if (ch === undefined) {
        throw new ExpansionError('unexpected end of statement while looking for matching double-quote');
      }
      if (ch === '"') break;
      if (ch === '$') {
        body += this.dollar();
        continue;
      }
      this.pos++;
      const next = this.src[this.pos];
      // Inside double quotes only `"`, `$` and the escape char itself can be escaped.
      if (ch === this.escape && next !== undefined && (next === '"' || next === '$' || next === this.escape)) {
        this.pos++;
        body += this.rawEscapes ? ch + next : next;
      } else {
        body += ch;
      }
    }
    this.pos++;
    return this.keepQuotes ? `"${body}"` : body;
  }

  private readName(): string {
    const start = this.pos;
    const first = this.src[this.pos] ?? '';
    if (/[0-9]/.test(first)) {
      while (/[0-9]/.test(this.src[this.pos] ?? '')) this.pos++;
    } else if (first !== '' && SPECIAL_PARAMS.includes(first)) {
      this.pos++;
    } else {
      while (NAME_CHAR.test(this.src[this.pos] ?? '')) this.pos++;
    }
    return this.src.slice(start, this.pos);
  }

  private dollar(): string {
    this.pos++;
    if (this.src[this.pos] !== '{') {
      const name = this.readName();
      return name === '' ? '$' : (this.lookup(name) ?? '');
    }
    this.pos++;
    const first = this.src[this.pos];
    if (first === undefined) throw new ExpansionError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ExpansionError('syntax error: bad substitution');
    const name = this.readName();
    if (name === '') throw new ExpansionError('syntax error: bad substitution');
    const op = this.src[this.pos++];
    const value = this.lookup(name);
    switch (op) {
      case undefined:
        throw new ExpansionError("syntax error: missing '}'");
      case '}':
        return value ?? '';
      case ':': {
        const modifier = this.src[this.pos++] ?? '';
        if (modifier === '#' || modifier === '%') throw new ExpansionError(`unsupported modifier (:${modifier}) in substitution`);
        const word = this.process('}').text;
        // The colon forms treat an empty value like an unset one.
        return this.applyModifier(modifier, name, value === '' ? undefined : value, value !== undefined, word);
      }
      case '-':
      case '+':
      case '?':
        return this.applyModifier(op, name, value, value !== undefined, this.process('}').text);
      case '#':
      case '%': {
        // The pattern keeps its escapes: `\*` is a literal star, not a wildcard.
        let pattern = this.process('}', true).text;
        // One `#`/`%` removes the shortest match, two the longest.
        const longest = pattern.startsWith(op);
        if (longest) pattern = pattern.slice(1);
        return op === '#' ? trimPrefix(value ?? '', pattern, longest) : trimSuffix(value ?? '', pattern, longest);
      }
      case '/': {
        const all = this.src[this.pos] === '/';
        if (all) this.pos++;
        const pattern = this.process('/', true).text;
        const replacement = this.process('}', true).text;
        return replace(value ?? '', pattern, replacement, all);
      }
      default:
        throw new ExpansionError(`unsupported modifier (${op}) in substitution`);
    }
  }

  /** `value` is undefined when the variable counts as missing for this form (unset, or empty with `:`). */
  private applyModifier(modifier: string, name: string, value: string | undefined, set: boolean, word: string): string {
    switch (modifier) {
      case '-':
        return value ?? word;
      case '+':
        return value === undefined ? '' : word;
      case '?':
        if (value !== undefined) return value;
        throw new ExpansionError(`${name}: ${word || (set ? 'is not allowed to be empty' : 'is not allowed to be unset')}`);
      default:
        throw new ExpansionError(`unsupported modifier (${modifier}) in substitution`);
    }
  }
}

/**
 * A shell pattern of `${VAR#pattern}` and the like as a regex source: `*` any text (the longest
 * or the shortest), `?` one character, `\\` makes `*`, `?` or `\\` literal; an escape before `}`
 * or `/` only kept them from ending the substitution. No bracket expressions, as in BuildKit.
 */
function patternRegex(pattern: string, greedy: boolean): string {
  let out = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') out += greedy ? '.*' : '.*?';
    else if (ch === '?') out += '.';
    else if (ch === '\\') {
      const next = chars[i + 1];
      if (next === '}' || next === '/') continue;
      if (next !== '*' && next !== '?' && next !== '\\') throw new ExpansionError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? ''}'`);
      out += '\\' + next;
      i++;
    } else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

/** `${VAR#pattern}` (shortest) and `${VAR##pattern}` (longest): the value without the matching prefix. */
function trimPrefix(value: string, pattern: string, longest: boolean): string {
  const match = new RegExp(`^(?:${patternRegex(pattern, longest)})`, 'u').exec(value);
  return match ? value.slice(match[0].length) : value;
}

/**
 * `${VAR%pattern}` and `${VAR%%pattern}`: the value without the matching suffix. A regex finds
 * the leftmost match, so the value and the pattern are reversed and the prefix trimmed.
 */
function trimSuffix(value: string, pattern: string, longest: boolean): string {
  const reversed: string[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    // An escape stays in front of the character it escapes.
    if (chars[i] === '\\' && i + 1 < chars.length) reversed.unshift(chars[i]!, chars[++i]!);
    else reversed.unshift(chars[i]!);
  }
  const reverse = (text: string) => [...text].reverse().join('');
  return reverse(trimPrefix(reverse(value), reversed.join(''), longest));
}

/** `${VAR/pattern/text}` (the first, longest match) and `${VAR//pattern/text}` (every match); the text is taken literally. */
function replace(value: string, pattern: string, replacement: string, all: boolean): string {
  const regex = new RegExp(patternRegex(pattern, true), all ? 'gu' : 'u');
  return value.replace(regex, () => replacement);
}

/** Expands one word (whitespace is preserved, no splitting). */
export function expandWords(text: string, lookup: Lookup, escape: EscapeChar, options: ExpandOptions = {}): string {
  return new Expander(text, lookup, escape, options.removeQuotes === false).process().text;
}

/** Expands and splits into words on unquoted whitespace (including whitespace from unquoted substitutions). */
export function expandWordList(text: string, lookup: Lookup, escape: EscapeChar): string[] {
  return new Expander(text, lookup, escape, false).process().words;
}
