// checkpoint and restore, with runc's flags and words: criu saves a running container into an
// image directory, and makes it again from there and its bundle.
import path from 'node:path';
import type { CheckpointOptions } from '../index.js';
import { flag, list, str, UsageError, type Command, type Options, type Values } from './command.js';

/** The flags both commands share, as runc's criuOptions reads them. */
const criuFlags: Options = {
  'image-path': { type: 'string' },
  'work-path': { type: 'string' },
  'tcp-established': { type: 'boolean' },
  'ext-unix-sk': { type: 'boolean' },
  'shell-job': { type: 'boolean' },
  'file-locks': { type: 'boolean' },
  'manage-cgroups-mode': { type: 'string' },
  'empty-ns': { type: 'string', multiple: true },
  'auto-dedup': { type: 'boolean' },
  'lazy-pages': { type: 'boolean' },
};

const MANAGE_CGROUPS_MODES = ['soft', 'full', 'strict'] as const;

function criuOptions(values: Values) {
  const mode = str(values, 'manage-cgroups-mode');
  if (mode && !(MANAGE_CGROUPS_MODES as readonly string[]).includes(mode)) throw new Error('Invalid manage cgroups mode');
  const workPath = str(values, 'work-path');
  return {
    // runc's default: "checkpoint" in the current directory.
    imagePath: str(values, 'image-path') || path.resolve('checkpoint'),
    ...(workPath ? { workPath } : {}),
    tcpEstablished: flag(values, 'tcp-established'),
    extUnixSk: flag(values, 'ext-unix-sk'),
    shellJob: flag(values, 'shell-job'),
    fileLocks: flag(values, 'file-locks'),
    autoDedup: flag(values, 'auto-dedup'),
    lazyPages: flag(values, 'lazy-pages'),
    ...(mode ? { manageCgroupsMode: mode as (typeof MANAGE_CGROUPS_MODES)[number] } : {}),
    emptyNs: list(values, 'empty-ns'),
  };
}

/** --page-server ADDRESS:PORT, an IPv6 address in brackets, as Go's net.SplitHostPort reads it. */
function pageServer(text: string): { address: string; port: number } {
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(text) ?? /^([^:[\]]*):([^:]*)$/.exec(text);
  if (!m || m[1] === '' || m[2] === '') throw new Error('Use --page-server ADDRESS:PORT to specify page server');
  if (!/^\d+$/.test(m[2]!)) throw new Error('Invalid port number');
  return { address: m[1]!, port: Number(m[2]) };
}

/** --status-fd N (-1, runc's default, for none). */
function statusFd(values: Values): number | undefined {
  const text = str(values, 'status-fd') ?? '-1';
  if (!/^-?\d+$/.test(text)) throw new UsageError(`invalid value "${text}" for flag --status-fd: not a number`);
  const fd = Number(text);
  return fd === -1 ? undefined : fd;
}

export const checkpointCommands: Command[] = [
  {
    name: 'checkpoint',
    summary: 'checkpoint a running container',
    usage: 'checkpoint [command options] <container-id>',
    options: {
      ...criuFlags,
      'parent-path': { type: 'string' },
      'leave-running': { type: 'boolean' },
      'status-fd': { type: 'string' },
      'page-server': { type: 'string' },
      'pre-dump': { type: 'boolean' },
    },
    args: 1,
    async run(env, values, [id]) {
      const container = (await env.runtime()).load(id!);
      const server = str(values, 'page-server');
      const fd = statusFd(values);
      const parentPath = str(values, 'parent-path');
      const options: CheckpointOptions = {
        ...criuOptions(values),
        ...(parentPath ? { parentPath } : {}),
        leaveRunning: flag(values, 'leave-running'),
        preDump: flag(values, 'pre-dump'),
        ...(server ? { pageServer: pageServer(server) } : {}),
        ...(fd !== undefined ? { statusFd: fd } : {}),
      };
      await container.checkpoint(options);
      // As runc: what criu dumped without leaving it running is gone; so is the container.
      if (!options.leaveRunning && !options.preDump) await container.delete();
      return 0;
    },
  },
  {
    name: 'restore',
    summary: 'restore a container from a previous checkpoint',
    usage: 'restore [command options] <container-id>',
    options: {
      ...criuFlags,
      'console-socket': { type: 'string' },
      bundle: { type: 'string', short: 'b' },
      detach: { type: 'boolean', short: 'd' },
      'pid-file': { type: 'string' },
      'no-subreaper': { type: 'boolean' },
      'no-pivot': { type: 'boolean' },
      'lsm-profile': { type: 'string' },
      'lsm-mount-context': { type: 'string' },
    },
    args: 1,
    async run(env, values, [id]) {
      const consoleSocket = str(values, 'console-socket');
      const pidFile = str(values, 'pid-file');
      const lsmProfile = str(values, 'lsm-profile');
      const lsmMountContext = str(values, 'lsm-mount-context');
      // runc exits with the restored init's status, so that a supervisor sees it.
      return (await env.runtime()).restore(id!, {
        ...criuOptions(values),
        bundle: str(values, 'bundle') || process.cwd(),
        detach: flag(values, 'detach'),
        noSubreaper: flag(values, 'no-subreaper'),
        noPivot: flag(values, 'no-pivot'),
        ...(pidFile ? { pidFile } : {}),
        ...(consoleSocket ? { consoleSocket } : {}),
        ...(lsmProfile ? { lsmProfile } : {}),
        ...(lsmMountContext ? { lsmMountContext } : {}),
      });
    },
  },
];
