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

/** Splits argv where the first positional argument stands, skipping the values of string flags. */
export function splitAtFirstPositional(args: string[], options: Options): [string[], string[]] {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return [args.slice(0, i), args.slice(i + 1)];
    if (!arg.startsWith('-') || arg === '-') return [args.slice(0, i), args.slice(i)];
    if (arg.includes('=')) continue;
    const name = arg.startsWith('--') ? arg.slice(2) : Object.keys(options).find((k) => options[k]!.short === arg.slice(1));
    if (name !== undefined && options[name]?.type === 'string') i++;
  }
  return [args, []];
}
