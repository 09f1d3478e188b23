// pause, resume, ps, update, events: managing a running container through its cgroup.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { LinuxResources } from '@tsrunc/spec-schemas';
import { resourcesFromFlags, updateFlagOptions } from '../container/update.js';
import { flag, str, type Command } from './command.js';

/** The cgroup code, loaded by the commands that use it only (see lifecycle-commands.ts). */
const cgroupModules = async () => ({
  ...(await import('../container/cgroup.js')),
  ...(await import('../container/status.js')),
});

export const manageCommands: Command[] = [
  {
    name: 'pause',
    summary: 'pause suspends all processes inside the container',
    usage: 'pause <container-id>',
    options: {},
    args: 1,
    async run(ctx, _values, [id]) {
      const { requireCgroup, statusOf } = await cgroupModules();
      const record = ctx.store.load(id!);
      const status = statusOf(ctx, record);
      if (status !== 'running' && status !== 'created') throw new Error(`container not running or created: ${status}`);
      requireCgroup(record).freeze();
      return 0;
    },
  },
  {
    name: 'resume',
    summary: 'resumes all processes that have been previously paused',
    usage: 'resume <container-id>',
    options: {},
    args: 1,
    async run(ctx, _values, [id]) {
      const { requireCgroup, statusOf } = await cgroupModules();
      const record = ctx.store.load(id!);
      if (statusOf(ctx, record) !== 'paused') throw new Error('container not paused');
      requireCgroup(record).thaw();
      return 0;
    },
  },
  {
    name: 'ps',
    summary: 'ps displays the processes running inside a container',
    usage: 'ps [command options] <container-id> [ps options]',
    options: { format: { type: 'string', short: 'f' } },
    args: [1, Number.MAX_SAFE_INTEGER],
    flagsBeforeArgsOnly: true,
    async run(ctx, values, [id, ...psArgs]) {
      const { requireCgroup } = await cgroupModules();
      const record = ctx.store.load(id!);
      const pids = requireCgroup(record).pids();
      const format = str(values, 'format') ?? 'table';
      if (format === 'json') {
        process.stdout.write(JSON.stringify(pids) + '\n');
        return 0;
      }
      if (format !== 'table') throw new Error(`invalid format option: ${format}`);
      // As runc: the host's ps, filtered to the container's pids (the PID column found by its header).
      const lines = execFileSync('ps', psArgs.length > 0 ? psArgs : ['-ef'], { encoding: 'utf8' }).split('\n');
      const header = lines[0] ?? '';
      const pidColumn = header.trim().split(/\s+/).indexOf('PID');
      if (pidColumn < 0) throw new Error('couldn\'t find PID field in ps output');
      const wanted = new Set(pids.map(String));
      const rows = lines.slice(1).filter((line) => wanted.has(line.trim().split(/\s+/)[pidColumn] ?? ''));
      process.stdout.write([header, ...rows].join('\n') + '\n');
      return 0;
    },
  },
  {
    name: 'update',
    summary: 'update container resource constraints',
    usage: 'update [command options] <container-id>',
    options: { resources: { type: 'string', short: 'r' }, ...updateFlagOptions },
    args: 1,
    async run(ctx, values, [id]) {
      const { requireCgroup, statusOf } = await cgroupModules();
      const record = ctx.store.load(id!);
      if (statusOf(ctx, record) === 'stopped') throw new Error('cannot update a stopped container');
      const file = str(values, 'resources');
      const resources: LinuxResources = file
        ? (JSON.parse(fs.readFileSync(file === '-' ? 0 : file, 'utf8')) as LinuxResources)
        : resourcesFromFlags(values);
      requireCgroup(record).set(resources);
      record.config.linux = { ...record.config.linux, resources: { ...record.config.linux?.resources, ...resources } };
      ctx.store.save(record);
      return 0;
    },
  },
  {
    name: 'events',
    summary: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    usage: 'events [command options] <container-id>',
    options: { interval: { type: 'string' }, stats: { type: 'boolean' } },
    args: 1,
    async run(ctx, values, [id]) {
      const interval = str(values, 'interval') ?? '5s';
      const { streamEvents } = await import('../container/events.js');
      return streamEvents(ctx, id!, { stats: flag(values, 'stats'), intervalMs: parseDuration(interval) });
    },
  },
];

/** Go durations as runc's --interval takes them: 500ms, 5s, 1m. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`invalid duration "${text}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}
