// Instructions that only change the image config, applied as docker build applies them.
import path from 'node:path';
import type { Healthcheck, ImageConfig } from '@tsrunc/spec-schemas';
import type { CmdInstruction, EntrypointInstruction, HealthcheckInstruction, Instruction } from '../dockerfile/index.js';
import { goDuration, goQuoteInt, goQuoteList } from './go-format.js';
import { setEnv } from './image-state.js';

export interface StageContext {
  /** Expands a word with the stage's ARG and ENV values. */
  expand(word: string): string;
  /** The image's Env by name, kept with it so that neither ENV nor expansion scans the list. */
  env: Map<string, string>;
  shell: string[];
  /** CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean;
}

function commandArgs(i: CmdInstruction | EntrypointInstruction, ctx: StageContext): string[] {
  return i.form === 'exec' ? i.args : [...ctx.shell, i.command];
}

function healthcheck(i: HealthcheckInstruction): Healthcheck {
  const o = i.options;
  return {
    Test: i.test,
    ...(o.interval !== undefined ? { Interval: o.interval } : {}),
    ...(o.timeout !== undefined ? { Timeout: o.timeout } : {}),
    ...(o.startPeriod !== undefined ? { StartPeriod: o.startPeriod } : {}),
    ...(o.startInterval !== undefined ? { StartInterval: o.startInterval } : {}),
    ...(o.retries !== undefined ? { Retries: o.retries } : {}),
  };
}

/**
 * BuildKit's history text of a HEALTHCHECK: Go's %q of its config struct. The field
 * StartInterval, which newer BuildKits have between StartPeriod and Retries, is written only when
 * it is set: docker 20.10's BuildKit, the reference the parity suite runs, has no such field.
 */
function healthcheckHistory(h: Healthcheck): string {
  const durations = [h.Interval, h.Timeout, h.StartPeriod, ...(h.StartInterval !== undefined ? [h.StartInterval] : [])];
  return `&{${[goQuoteList(h.Test ?? []), ...durations.map((d) => `"${goDuration(d ?? 0)}"`), goQuoteInt(h.Retries ?? 0)].join(' ')}}`;
}

/** Applies `i` to `image` when it is a metadata instruction; returns the history text, or undefined if it is not one. */
export function applyMetadata(image: ImageConfig, i: Instruction, ctx: StageContext): string | undefined {
  const c = (image.config ??= {});
  switch (i.kind) {
    case 'ENV': {
      const pairs = i.pairs.map((p) => [p.key, ctx.expand(p.raw)] as const);
      const env = (c.Env ??= []);
      for (const [key, value] of pairs) setEnv(env, ctx.env, key, value);
      return `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    }
    case 'LABEL': {
      const pairs = i.pairs.map((p) => [ctx.expand(p.key), ctx.expand(p.raw)] as const);
      // Added in place: copying the whole map for every LABEL made a long Dockerfile quadratic.
      Object.assign((c.Labels ??= {}), Object.fromEntries(pairs));
      return `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    }
    case 'USER':
      c.User = ctx.expand(i.user);
      return `USER ${c.User}`;
    case 'WORKDIR':
      c.WorkingDir = path.posix.resolve(c.WorkingDir || '/', ctx.expand(i.path));
      return `WORKDIR ${c.WorkingDir}`;
    case 'EXPOSE': {
      const ports = i.ports.map((p) => ctx.expand(p)).map((p) => (p.includes('/') ? p.toLowerCase() : `${p}/tcp`));
      Object.assign((c.ExposedPorts ??= {}), Object.fromEntries(ports.map((p) => [p, {}])));
      // Go's %v of a map, which prints its keys sorted.
      return `EXPOSE map[${[...new Set(ports)].sort().map((p) => `${p}:{}`).join(' ')}]`;
    }
    case 'VOLUME': {
      const paths = i.paths.map((p) => ctx.expand(p));
      Object.assign((c.Volumes ??= {}), Object.fromEntries(paths.map((p) => [p, {}])));
      return `VOLUME [${paths.join(' ')}]`;
    }
    case 'CMD':
      c.Cmd = commandArgs(i, ctx);
      // BuildKit marks every CMD so, whatever its form (docker's Windows heritage).
      c.ArgsEscaped = true;
      ctx.cmdSet = true;
      return `CMD ${goQuoteList(c.Cmd)}`;
    case 'ENTRYPOINT':
      c.Entrypoint = commandArgs(i, ctx);
      if (!ctx.cmdSet) c.Cmd = null;
      return `ENTRYPOINT ${goQuoteList(c.Entrypoint)}`;
    case 'STOPSIGNAL':
      c.StopSignal = ctx.expand(i.signal);
      return `STOPSIGNAL ${c.StopSignal}`;
    case 'SHELL':
      ctx.shell = i.args;
      c.Shell = i.args;
      // Go's %v of a []string, unquoted.
      return `SHELL [${i.args.join(' ')}]`;
    case 'MAINTAINER':
      image.author = i.name;
      return `MAINTAINER ${i.name}`;
    case 'HEALTHCHECK': {
      const h = healthcheck(i);
      c.Healthcheck = h;
      return `HEALTHCHECK ${healthcheckHistory(h)}`;
    }
    case 'ONBUILD':
      // Stored as written; the child's build parses it again (see Build.runTriggers).
      c.OnBuild = [...(c.OnBuild ?? []), i.instruction.original];
      return `ONBUILD ${i.instruction.original}`;
    default:
      return undefined;
  }
}
