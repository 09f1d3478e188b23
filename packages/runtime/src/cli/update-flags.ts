// `tsrunc update` flags -> linux.resources, with runc's flag names and units.
import type { LinuxResources } from '@tsrunc/spec-schemas';
import { parseByteSize } from '../units.js';
import { str, type Options, type Values } from './command.js';

export const updateFlagOptions: Options = Object.fromEntries(
  ['blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-share', 'cpu-rt-period', 'cpu-rt-runtime', 'cpuset-cpus',
    'cpuset-mems', 'memory', 'memory-reservation', 'memory-swap', 'pids-limit', 'kernel-memory', 'kernel-memory-tcp',
    'l3-cache-schema', 'mem-bw-schema'].map((name) => [name, { type: 'string' as const }]),
);

/** "512m", "1G", "1048576" -> bytes; "-1" is unlimited, as runc takes it. */
function bytes(flagName: string, text: string): number {
  if (text === '-1') return -1;
  try {
    return parseByteSize(text);
  } catch (err) {
    throw new Error(`invalid value for --${flagName}: ${(err as Error).message}`);
  }
}

function integer(flagName: string, text: string): number {
  if (!/^-?\d+$/.test(text)) throw new Error(`invalid value for --${flagName}: ${text}`);
  return Number(text);
}

export function resourcesFromFlags(values: Values): LinuxResources {
  const r: LinuxResources = {};
  const get = (name: string) => str(values, name);
  const set = <T>(name: string, parse: (flagName: string, text: string) => T, apply: (v: T) => void) => {
    const text = get(name);
    if (text !== undefined) apply(parse(name, text));
  };
  const cpu = () => (r.cpu ??= {});
  const memory = () => (r.memory ??= {});
  set('blkio-weight', integer, (v) => { r.blockIO = { weight: v }; });
  set('cpu-period', integer, (v) => { cpu().period = v; });
  set('cpu-quota', integer, (v) => { cpu().quota = v; });
  set('cpu-share', integer, (v) => { cpu().shares = v; });
  set('cpu-rt-period', integer, (v) => { cpu().realtimePeriod = v; });
  set('cpu-rt-runtime', integer, (v) => { cpu().realtimeRuntime = v; });
  set('cpuset-cpus', (_n, t) => t, (v) => { cpu().cpus = v; });
  set('cpuset-mems', (_n, t) => t, (v) => { cpu().mems = v; });
  set('memory', bytes, (v) => { memory().limit = v; });
  set('memory-reservation', bytes, (v) => { memory().reservation = v; });
  set('memory-swap', bytes, (v) => { memory().swap = v; });
  set('kernel-memory', bytes, (v) => { memory().kernel = v; });
  set('kernel-memory-tcp', bytes, (v) => { memory().kernelTCP = v; });
  set('pids-limit', integer, (v) => { r.pids = { limit: v }; });
  if (get('l3-cache-schema') !== undefined || get('mem-bw-schema') !== undefined) {
    throw new Error('Intel RDT is not available on this host');
  }
  return r;
}
