// A tsrunc subcommand: its flags in node:util parseArgs form (yargs costs ~100 ms of start-up
// per call, and containerd calls the runtime several times per container), and what it does.
import type { ParseArgsConfig } from 'node:util';
import type { Runtime } from '../index.js';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Options;
  /** Flags end at the first positional argument (exec: the command's own flags follow). */
  flagsBeforeArgsOnly?: boolean;
  /** The exit code of a failure (runc's exec exits 255); 1 by default. */
  failureCode?: number;
  /** Exactly this many positional arguments, or [min, max]. */
  args: number | [number, number];
  /** Resolves to the process exit code. */
  run(env: CommandEnv, values: Values, positionals: string[]): Promise<number> | number;
}

/** What a command runs against. */
export interface CommandEnv {
  /** The runtime over --root, made on first use: --version, spec and usage errors do without it. */
  runtime(): Promise<Runtime>;
}

export class UsageError extends Error {}

export const str = (v: Values, key: string): string | undefined => v[key] as string | undefined;
export const flag = (v: Values, key: string): boolean => v[key] === true;
export const list = (v: Values, key: string): string[] => (v[key] as string[] | undefined) ?? [];

export function int(v: Values, key: string, fallback: number): number {
  const text = str(v, key);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new UsageError(`invalid value "${text}" for flag --${key}: not a number`);
  return Number(text);
}

/** urfave/cli, which runc uses, takes `-bundle` as well as `--bundle`; so do we. */
export function normalizeFlag(arg: string): string {
  return /^-[a-z][a-z-]+(=|$)/.test(arg) ? `-${arg}` : arg;
}

/**
 * A command's arguments as runc's command line reads them: its flags (each string flag joined
 * with its value, so that a value such as "-1" is not read as a flag) and, for a command whose
 * flags end at its first positional argument (exec), everything from there on untouched: the
 * container's own arguments (`ls -la`, `rm -rf`) are never rewritten.
 */
export function splitCommandArgs(args: string[], command: Pick<Command, 'options' | 'flagsBeforeArgsOnly'>): [string[], string[]] {
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return [flags, args.slice(i + 1)];
    if (!arg.startsWith('-') || arg === '-') {
      if (command.flagsBeforeArgsOnly) return [flags, args.slice(i)];
      flags.push(arg);
      continue;
    }
    const flag = normalizeFlag(arg);
    const name = flag.startsWith('--') ? flag.slice(2) : Object.keys(command.options).find((k) => command.options[k]!.short === flag.slice(1));
    if (!flag.includes('=') && name !== undefined && command.options[name]?.type === 'string' && i + 1 < args.length) {
      flags.push(`--${name}=${args[++i]!}`);
    } else {
      flags.push(flag);
    }
  }
  return [flags, []];
}
