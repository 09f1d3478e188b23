// A tsrunc subcommand: its flags (read by argv.ts, as runc's command line reads them) and what
// it does.
import type { Runtime } from '../index.js';
import type { Options, Values } from './argv.js';

export type { Options, Values } from './argv.js';

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
