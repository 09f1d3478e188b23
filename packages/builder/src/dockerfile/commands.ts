// Instructions that carry a command: RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK.

import { Problem } from './errors.js';
import { findHeredocMarkers, readHeredocBodies } from './heredoc.js';
import { baseOf, type Request } from './request.js';
import type {
  CmdInstruction,
  CommandForm,
  EntrypointInstruction,
  HealthcheckInstruction,
  HealthcheckOptions,
  RunInstruction,
  ShellInstruction,
} from './types.js';
import { parseJsonStringArray } from './words.js';

/** Exec form when the arguments are a JSON string array, shell form (raw text) otherwise. */
export function commandForm(args: string): CommandForm {
  const exec = parseJsonStringArray(args);
  return exec ? { form: 'exec', args: exec } : { form: 'shell', command: args };
}

export function parseRun(req: Request): RunInstruction {
  if (req.args === '') throw new Problem('RUN requires at least one argument');
  const form = commandForm(req.args);
  // Heredocs only exist in shell form. The command text is kept as written: `RUN <<EOF` makes
  // the body the script, `RUN python3 <<EOF` feeds it to the command's stdin.
  const source = req.ctx.heredocSource;
  const heredocs =
    form.form === 'shell' && source ? readHeredocBodies(findHeredocMarkers(req.args, req.ctx.escape), source) : [];
  return { ...baseOf('RUN', req), ...form, heredocs };
}

export function parseCmd(req: Request): CmdInstruction {
  return { ...baseOf('CMD', req), ...commandForm(req.args) };
}

export function parseEntrypoint(req: Request): EntrypointInstruction {
  return { ...baseOf('ENTRYPOINT', req), ...commandForm(req.args) };
}

export function parseShell(req: Request): ShellInstruction {
  const args = parseJsonStringArray(req.args);
  if (!args) throw new Problem('SHELL requires the arguments to be in JSON form');
  if (args.length === 0) throw new Problem('SHELL requires at least one argument');
  return { ...baseOf('SHELL', req), args };
}

const NANOS_PER_UNIT: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DURATION_PART = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Go's time.ParseDuration, in nanoseconds ("1m30s", "1.5h", "0"). */
export function parseGoDuration(text: string): number {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new Problem(`time: invalid duration "${text}"`);
  let total = 0;
  while (rest !== '') {
    const match = DURATION_PART.exec(rest);
    if (!match) throw new Problem(`time: invalid duration "${text}"`);
    total += Number(match[1]) * (NANOS_PER_UNIT[match[2] ?? ''] ?? 0);
    rest = rest.slice(match[0].length);
  }
  return Math.round(sign * total);
}

const MIN_DURATION = 1e6; // 1ms, the smallest non-zero healthcheck duration BuildKit accepts

function durationFlag(flags: Request['flags'], name: string): number | undefined {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') return undefined;
  const nanos = parseGoDuration(value);
  if (nanos < 0) throw new Problem(`Interval "${name}" cannot be negative`);
  if (nanos !== 0 && nanos < MIN_DURATION) throw new Problem(`Interval "${name}" cannot be less than 1ms`);
  return nanos;
}

function healthcheckOptions(flags: Request['flags']): HealthcheckOptions {
  const options: HealthcheckOptions = {};
  const durations = [
    ['interval', 'interval'],
    ['timeout', 'timeout'],
    ['start-period', 'startPeriod'],
    ['start-interval', 'startInterval'],
  ] as const;
  for (const [flag, key] of durations) {
    const nanos = durationFlag(flags, flag);
    if (nanos !== undefined) options[key] = nanos;
  }
  const retries = flags['retries'];
  if (typeof retries === 'string' && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries)) throw new Problem(`invalid --retries value "${retries}"`);
    const count = Number(retries);
    if (count < 0) throw new Problem(`--retries cannot be negative (${count})`);
    options.retries = count;
  }
  return options;
}

export function parseHealthcheck(req: Request): HealthcheckInstruction {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(req.args);
  if (!match) throw new Problem('HEALTHCHECK requires at least one argument');
  const type = (match[1] ?? '').toUpperCase();
  const rest = match[2] ?? '';
  if (type === 'NONE') {
    if (rest !== '') throw new Problem('HEALTHCHECK NONE takes no arguments');
    return { ...baseOf('HEALTHCHECK', req), test: ['NONE'], options: {} };
  }
  if (type !== 'CMD') throw new Problem(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  const form = commandForm(rest);
  if (form.form === 'exec' ? form.args.length === 0 : form.command === '') {
    throw new Problem('Missing command after HEALTHCHECK CMD');
  }
  const test = form.form === 'exec' ? ['CMD', ...form.args] : ['CMD-SHELL', form.command];
  return { ...baseOf('HEALTHCHECK', req), test, options: healthcheckOptions(req.flags) };
}
