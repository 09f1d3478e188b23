// ENV, LABEL and ARG: `key=value` lists, plus the legacy `ENV key value with spaces` form.

import { Problem } from './errors.js';
import { baseOf, type Request } from './request.js';
import type { ArgDefinition, ArgInstruction, EnvInstruction, KeyValue, LabelInstruction } from './types.js';
import { splitRawWords, unquoteWord } from './words.js';

function pair(rawKey: string, raw: string, keyword: string, escape: string): KeyValue {
  const key = unquoteWord(rawKey, escape);
  if (key === '') throw new Problem(`${keyword} names can not be blank`);
  return { key, value: unquoteWord(raw, escape), raw };
}

/**
 * The form is decided by the first word: without `=` it is the legacy single pair whose value
 * is the rest of the line; with `=` every word must be `key=value`.
 */
function parsePairs(req: Request): KeyValue[] {
  const { escape } = req.ctx;
  const words = splitRawWords(req.args, escape);
  const first = words[0];
  if (first === undefined) throw new Problem(`${req.keyword} requires at least one argument`);
  if (!first.includes('=')) {
    const legacy = /^(\S+)\s+([\s\S]+)$/.exec(req.args);
    if (!legacy) throw new Problem(`${req.keyword} must have two arguments`);
    return [pair(legacy[1] ?? '', legacy[2] ?? '', req.keyword, escape)];
  }
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) throw new Problem(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    return pair(word.slice(0, eq), word.slice(eq + 1), req.keyword, escape);
  });
}

export function parseEnv(req: Request): EnvInstruction {
  return { ...baseOf('ENV', req), pairs: parsePairs(req) };
}

export function parseLabel(req: Request): LabelInstruction {
  return { ...baseOf('LABEL', req), pairs: parsePairs(req) };
}

export function parseArg(req: Request): ArgInstruction {
  const { escape } = req.ctx;
  const words = splitRawWords(req.args, escape);
  if (words.length === 0) throw new Problem('ARG requires at least one argument');
  const args = words.map((word): ArgDefinition => {
    const eq = word.indexOf('=');
    const name = unquoteWord(eq < 0 ? word : word.slice(0, eq), escape);
    if (name === '') throw new Problem('ARG names can not be blank');
    if (eq < 0) return { name };
    const defaultRaw = word.slice(eq + 1);
    return { name, default: unquoteWord(defaultRaw, escape), defaultRaw };
  });
  return { ...baseOf('ARG', req), args };
}
