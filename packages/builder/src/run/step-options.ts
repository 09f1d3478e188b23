// What `tsbuild build` sets for every RUN step's container, as docker build's flags do:
// --add-host (lines of /etc/hosts), --ulimit (the process's rlimits) and --shm-size (/dev/shm).
import net from 'node:net';
import type { POSIXRlimit, Spec } from '@tsrunc/spec-schemas';

export interface ExtraHost {
  name: string;
  ip: string;
}

export interface StepOptions {
  extraHosts: ExtraHost[];
  /** Each replaces the default of its type. */
  rlimits: POSIXRlimit[];
  /** /dev/shm's size in bytes; the runtime's default (64 MiB) when unset. */
  shmSize?: number;
}

export const DEFAULT_STEP_OPTIONS: StepOptions = { extraHosts: [], rlimits: [] };

/** "host:ip" (or docker's "host=ip"); the address may be IPv6, so the name ends at the first separator. */
export function parseAddHost(text: string): ExtraHost {
  const sep = /[:=]/.exec(text);
  const name = sep ? text.slice(0, sep.index) : '';
  const ip = sep ? text.slice(sep.index + 1).replace(/^\[(.*)\]$/, '$1') : '';
  if (name === '' || /\s/.test(name)) throw new Error(`--add-host ${text}: expected HOST:IP`);
  if (net.isIP(ip) === 0) throw new Error(`--add-host ${text}: "${ip}" is not an IP address`);
  return { name, ip };
}

/** /etc/hosts lines for the extra hosts, after the sandbox's own, as BuildKit appends them. */
export function extraHostLines(hosts: ExtraHost[]): string {
  return hosts.map((h) => `${h.ip}\t${h.name}\n`).join('');
}

/** docker's --ulimit names, as setrlimit(2) calls them without the RLIMIT_ prefix. */
const ULIMIT_NAMES = ['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

/** "nofile=1024:2048" or "nofile=1024" (soft and hard alike). */
export function parseUlimit(text: string): POSIXRlimit {
  const m = /^([a-z]+)=(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw new Error(`--ulimit ${text}: expected NAME=SOFT[:HARD]`);
  const name = m[1]!;
  if (!ULIMIT_NAMES.includes(name)) throw new Error(`--ulimit ${text}: unknown limit "${name}" (${ULIMIT_NAMES.join(', ')})`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (!Number.isSafeInteger(soft) || !Number.isSafeInteger(hard)) throw new Error(`--ulimit ${text}: the value is too large`);
  if (soft > hard) throw new Error(`--ulimit ${text}: the soft limit ${soft} is above the hard limit ${hard}`);
  return { type: `RLIMIT_${name.toUpperCase()}`, soft, hard };
}

/** The rlimits and /dev/shm size of `options` on a step's spec. */
export function applyStepOptions(spec: Spec, options: StepOptions): void {
  if (options.rlimits.length > 0) {
    const given = new Set(options.rlimits.map((r) => r.type));
    spec.process!.rlimits = [...(spec.process!.rlimits ?? []).filter((r) => !given.has(r.type)), ...options.rlimits];
  }
  const shmSize = options.shmSize;
  if (shmSize !== undefined) {
    spec.mounts = spec.mounts!.map((m) => m.destination !== '/dev/shm' ? m
      : { ...m, options: [...(m.options ?? []).filter((o) => !o.startsWith('size=')), `size=${shmSize}`] });
  }
}
