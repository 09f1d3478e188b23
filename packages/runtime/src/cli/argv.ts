// Flag parsing as runc's command line (Go's flag package under urfave/cli) reads flags. Our own,
// not node:util's parseArgs: under Bun, importing node:util costs ~5 ms of every call's start-up
// (bench/runtime.mjs), and Go's rules differ from parseArgs' anyway (`-d=false` is a boolean
// set to false; a string flag takes the next argument whatever it looks like).

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Every occurrence is kept, in order (`-e A=1 -e B=2`). */
  multiple?: boolean;
}

export type Options = Record<string, OptionSpec>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export class FlagError extends Error {}

const BOOLEAN_TEXT: Record<string, boolean> = { true: true, '1': true, t: true, T: true, TRUE: true, True: true, false: false, '0': false, f: false, F: false, FALSE: false, False: false };

function lookup(options: Options, name: string, short: boolean): [string, OptionSpec] | undefined {
  if (!short) return options[name] !== undefined ? [name, options[name]] : undefined;
  const entry = Object.entries(options).find(([, spec]) => spec.short === name);
  return entry ?? (options[name] !== undefined ? [name, options[name]] : undefined);
}

export interface ParsedFlags {
  values: Values;
  positionals: string[];
}

/**
 * Reads `args` against `options`: `--name`, `-name` (as Go takes long flags with one dash),
 * `-n`, each with `=value` or, for a string flag, the next argument as its value, whatever it
 * looks like (`--memory-swap -1`). `--` ends the flags. With `stopAtPositional`, so do the first
 * positional and everything after it, untouched: the global flags end at the command's name, and
 * exec's at the container's own command line (`ls -la`). Unknown flags and missing values are
 * errors worded as runc's.
 */
export function parseFlags(args: readonly string[], options: Options, stopAtPositional = false): ParsedFlags {
  const values: Values = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (stopAtPositional) {
        positionals.push(...args.slice(i));
        break;
      }
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (name === '' || name.startsWith('-')) throw new FlagError(`bad flag syntax: ${arg}`);
    const found = lookup(options, name, !arg.startsWith('--') && name.length === 1);
    if (!found) throw new FlagError(`flag provided but not defined: -${name}`);
    const [key, spec] = found;
    let value: string | boolean;
    if (spec.type === 'boolean') {
      if (eq < 0) value = true;
      else {
        const parsed = BOOLEAN_TEXT[body.slice(eq + 1)];
        if (parsed === undefined) throw new FlagError(`invalid boolean value "${body.slice(eq + 1)}" for flag --${key}`);
        value = parsed;
      }
    } else if (eq >= 0) {
      value = body.slice(eq + 1);
    } else if (i + 1 < args.length) {
      value = args[++i]!;
    } else {
      throw new FlagError(`flag needs an argument: --${key}`);
    }
    if (spec.multiple) {
      const list = (values[key] as (string | boolean)[] | undefined) ?? [];
      values[key] = [...list, value] as string[];
    } else {
      values[key] = value;
    }
  }
  return { values, positionals };
}
