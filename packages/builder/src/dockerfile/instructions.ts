// Splits an instruction line into keyword, flags and arguments and dispatches to the parser
// for that keyword. Parsers throw Problem; the caller attaches file and line.

import { parseCmd, parseEntrypoint, parseHealthcheck, parseRun, parseShell } from './commands.js';
import { Problem } from './errors.js';
import { parseAdd, parseCopy } from './files.js';
import { extractFlagWords, validateFlags } from './flags.js';
import { parseArg, parseEnv, parseLabel } from './keyvalue.js';
import { baseOf, type ParseContext, type Request } from './request.js';
import type { FromInstruction, Instruction } from './types.js';
import { parseJsonStringArray, splitWhitespace } from './words.js';

/** The whole argument text as a single value (USER, WORKDIR, ...). */
function single(req: Request): string {
  if (req.args === '') throw new Problem(`${req.keyword} requires exactly one argument`);
  return req.args;
}

function parseFrom(req: Request): FromInstruction {
  const words = splitWhitespace(req.args);
  if (words.length !== 1 && words.length !== 3) throw new Problem('FROM requires either one or three arguments');
  if (words.length === 3 && words[1]?.toLowerCase() !== 'as') {
    throw new Problem('When using FROM with 3 arguments, the second argument must be "AS"');
  }
  const platform = req.flags['platform'];
  return {
    ...baseOf('FROM', req),
    base: words[0] ?? '',
    ...(words[2] !== undefined ? { name: words[2] } : {}),
    ...(typeof platform === 'string' ? { platform } : {}),
  };
}

function parseOnbuild(req: Request): Instruction {
  if (req.args === '') throw new Problem('ONBUILD requires at least one argument');
  return { ...baseOf('ONBUILD', req), instruction: parseTrigger(req.args, req.line, req.ctx.escape) };
}

/**
 * An ONBUILD trigger: at ONBUILD itself, and again when a child build runs the text its base
 * image stored in OnBuild. Triggers never read heredoc bodies (BuildKit only allows them on
 * top-level RUN/COPY/ADD).
 */
export function parseTrigger(text: string, line: number, escape: ParseContext['escape']): Instruction {
  const trigger = (splitWhitespace(text)[0] ?? '').toUpperCase();
  if (trigger === 'ONBUILD') throw new Problem('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'FROM' || trigger === 'MAINTAINER') throw new Problem(`${trigger} isn't allowed as an ONBUILD trigger`);
  // FROM was rejected above, so the trigger is an ordinary Instruction.
  return parseInstruction(text, line, { escape }) as Instruction;
}

function atLeastOne(req: Request, list: string[]): string[] {
  if (list.length === 0) throw new Problem(`${req.keyword} requires at least one argument`);
  return list;
}

const PARSERS: Record<string, (req: Request) => Instruction | FromInstruction> = {
  FROM: parseFrom,
  RUN: parseRun,
  CMD: parseCmd,
  ENTRYPOINT: parseEntrypoint,
  SHELL: parseShell,
  HEALTHCHECK: parseHealthcheck,
  ENV: parseEnv,
  LABEL: parseLabel,
  ARG: parseArg,
  COPY: parseCopy,
  ADD: parseAdd,
  ONBUILD: parseOnbuild,
  MAINTAINER: (req) => ({ ...baseOf('MAINTAINER', req), name: single(req) }),
  USER: (req) => ({ ...baseOf('USER', req), user: single(req) }),
  WORKDIR: (req) => ({ ...baseOf('WORKDIR', req), path: single(req) }),
  STOPSIGNAL: (req) => ({ ...baseOf('STOPSIGNAL', req), signal: single(req) }),
  // Words split on whitespace only: quotes are read when each word is expanded, as in BuildKit.
  EXPOSE: (req) => ({ ...baseOf('EXPOSE', req), ports: atLeastOne(req, splitWhitespace(req.args)) }),
  VOLUME: (req) => {
    const paths = atLeastOne(req, parseJsonStringArray(req.args) ?? splitWhitespace(req.args));
    if (paths.some((p) => p.trim() === '')) throw new Problem('VOLUME specified can not be an empty string');
    return { ...baseOf('VOLUME', req), paths };
  },
};

/** Parses one logical line (continuations already joined). */
export function parseInstruction(text: string, line: number, ctx: ParseContext): Instruction | FromInstruction {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(text.trim());
  const word = match?.[1] ?? '';
  const keyword = word.toUpperCase();
  const parse = PARSERS[keyword];
  if (!parse) throw new Problem(`unknown instruction: ${keyword}`);
  const { words, rest } = extractFlagWords(match?.[2] ?? '');
  const flags = validateFlags(keyword, words);
  return parse({ keyword, line, original: text, flags, args: rest.trim(), ctx });
}
