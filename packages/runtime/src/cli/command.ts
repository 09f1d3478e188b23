// A tsrunc subcommand: its flags in node:util parseArgs form (yargs costs ~100 ms of start-up
// per call, and containerd calls the runtime several times per container), and what it does.
import type { ParseArgsConfig } from 'node:util';
import type { RuntimeContext } from '../container/context.js';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Options;
  /** Exactly this many positional arguments, or [min, max]. */
  args: number | [number, number];
  /** Resolves to the process exit code. */
  run(ctx: RuntimeContext, values: Values, positionals: string[]): Promise<number> | number;
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
