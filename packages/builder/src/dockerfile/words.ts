// Parse-time word handling. Words keep their quotes and escapes ("raw") because variable
// expansion happens later, at build time, with the values known then.

import { Problem } from './errors.js';

const isSpace = (ch: string): boolean => /\s/.test(ch);

/**
 * Splits on unquoted whitespace, keeping quotes and escapes in each word
 * (`a="b c" d` → [`a="b c"`, `d`]). Inside single quotes the escape char is literal.
 */
export function splitRawWords(text: string, escape: string): string[] {
  return scanRawWords(text, escape).words;
}

/** Whether a quote opened in `text` is never closed (the shell, and BuildKit's lexer, refuse it). */
export function hasOpenQuote(text: string, escape: string): boolean {
  return scanRawWords(text, escape).openQuote;
}

function scanRawWords(text: string, escape: string): { words: string[]; openQuote: boolean } {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (quote === '' && isSpace(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === escape && quote !== "'") {
      // An escaped character (even a quote or a space) stays part of the word, escape included.
      word += ch + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
    else if (ch === quote) quote = '';
    word += ch;
  }
  if (inWord) words.push(word);
  return { words, openQuote: quote !== '' };
}

/** Splits on runs of whitespace without any quote handling (BuildKit's rule for FROM, COPY, ADD, VOLUME and EXPOSE). */
export function splitWhitespace(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/**
 * Removes quotes and escapes the way the shell-word rules do, but leaves `$VAR` text alone.
 * Used for values shown in the parsed structure; unterminated quotes run to the end of the word.
 */
export function unquoteWord(raw: string, escape: string): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] ?? '';
    if (quote === "'") {
      if (ch === "'") quote = '';
      else out += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = '';
      else if (ch === escape && i + 1 < raw.length && ['"', '$', escape].includes(raw[i + 1] ?? '')) out += raw[++i];
      else out += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === escape) {
      if (i + 1 < raw.length) out += raw[++i];
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * Exec-form detection: returns the strings when `text` is a JSON array of strings and undefined
 * when it is not JSON at all (the caller then uses shell form). A JSON array holding anything
 * but strings is an error, as in BuildKit.
 */
export function parseJsonStringArray(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v): v is string => typeof v === 'string')) {
    throw new Problem('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return value;
}
