// Leading `--name[=value]` flags of an instruction, and their per-instruction validation.

import { Problem } from './errors.js';
import type { Flags } from './types.js';

type FlagType = 'string' | 'bool' | 'list';

/** Accepted flags per instruction keyword; anything else is "unknown flag". */
const FLAG_SPECS: Record<string, Record<string, FlagType>> = {
  RUN: { mount: 'list', network: 'string', security: 'string' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', exclude: 'list', parents: 'bool' },
  ADD: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', exclude: 'list' },
  FROM: { platform: 'string' },
  HEALTHCHECK: {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  },
};

/** Values checked at parse time because they cannot contain build args. */
const ALLOWED_VALUES: Record<string, Record<string, readonly string[]>> = {
  RUN: { network: ['default', 'none', 'host'], security: ['sandbox', 'insecure'] },
};

const isSpace = (ch: string): boolean => /\s/.test(ch);

/**
 * Splits leading flag words off `args`. Flag words may be quoted (quotes are removed) and a
 * bare `--` ends the flags. Backslash escapes in flags are always `\`, independent of the
 * escape directive, matching BuildKit.
 */
export function extractFlagWords(args: string): { words: string[]; rest: string } {
  const words: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < args.length && isSpace(args[pos] ?? '')) pos++;
    if (!args.startsWith('--', pos)) return { words, rest: args.slice(pos) };
    let word = '';
    let quote = '';
    for (; pos < args.length; pos++) {
      const ch = args[pos] ?? '';
      if (quote === '' && isSpace(ch)) break;
      if (quote === '' && (ch === '"' || ch === "'")) quote = ch;
      else if (ch === quote) quote = '';
      else if (ch === '\\' && pos + 1 < args.length) word += args[++pos];
      else if (ch !== '\\') word += ch;
    }
    if (word === '--') return { words, rest: args.slice(pos).trimStart() };
    words.push(word);
  }
}

/** Validates flag words against what `keyword` accepts. */
export function validateFlags(keyword: string, words: readonly string[]): Flags {
  const spec = FLAG_SPECS[keyword] ?? {};
  const flags: Flags = {};
  for (const word of words) {
    const body = word.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    const type = spec[name];
    if (type === undefined) throw new Problem(`unknown flag: --${name}`);
    if (type === 'list') {
      if (value === undefined) throw new Problem(`missing a value on flag: --${name}`);
      const list = flags[name];
      flags[name] = Array.isArray(list) ? [...list, value] : [value];
      continue;
    }
    if (name in flags) throw new Problem(`duplicate flag specified: --${name}`);
    if (type === 'bool') {
      const normalized = (value ?? 'true').toLowerCase();
      if (normalized !== 'true' && normalized !== 'false') {
        throw new Problem(`expecting boolean value for flag --${name}, not: ${value}`);
      }
      flags[name] = normalized;
      continue;
    }
    if (value === undefined) throw new Problem(`missing a value on flag: --${name}`);
    const allowed = ALLOWED_VALUES[keyword]?.[name];
    if (allowed && !allowed.includes(value)) {
      throw new Problem(`unsupported value for --${name}: "${value}" (expected ${allowed.join(', ')})`);
    }
    flags[name] = value;
  }
  return flags;
}
