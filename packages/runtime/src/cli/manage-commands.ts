// pause, resume, ps, update, events: managing a running container through its cgroup.
import fs from 'node:fs';
import type { LinuxResources } from '@tsrunc/spec-schemas';
import { flag, str, type Command } from './command.js';
import { writeStdout } from './output.js';
import { resourcesFromFlags, updateFlagOptions } from './update-flags.js';

export const manageCommands: Command[] = [
  {
    name: 'pause',
    summary: 'pause suspends all processes inside the container',
    usage: 'pause <container-id>',
    options: {},
    args: 1,
    async run(env, _values, [id]) {
      await (await env.runtime()).load(id!).pause();
      return 0;
    },
  },
  {
    name: 'resume',
    summary: 'resumes all processes that have been previously paused',
    usage: 'resume <container-id>',
    options: {},
    args: 1,
    async run(env, _values, [id]) {
      await (await env.runtime()).load(id!).resume();
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
    async run(env, values, [id, ...psArgs]) {
      const pids = await (await env.runtime()).load(id!).pids();
      const format = str(values, 'format') ?? 'table';
      if (format === 'json') {
        writeStdout(JSON.stringify(pids) + '\n');
        return 0;
      }
      if (format !== 'table') throw new Error(`invalid format option: ${format}`);
      // As runc: the host's ps, filtered to the container's pids (the PID column found by its header).
      // child_process is loaded here, not at the top: it costs every other command's start-up.
      const { execFileSync } = await import('node:child_process');
      const lines = execFileSync('ps', psArgs.length > 0 ? psArgs : ['-ef'], { encoding: 'utf8' }).split('\n');
      const header = lines[0] ?? '';
      const pidColumn = header.trim().split(/\s+/).indexOf('PID');
      if (pidColumn < 0) throw new Error('couldn\'t find PID field in ps output');
      const wanted = new Set(pids.map(String));
      const rows = lines.slice(1).filter((line) => wanted.has(line.trim().split(/\s+/)[pidColumn] ?? ''));
      writeStdout([header, ...rows].join('\n') + '\n');
      return 0;
    },
  },
  {
    name: 'update',
    summary: 'update container resource constraints',
    usage: 'update [command options] <container-id>',
    options: { resources: { type: 'string', short: 'r' }, ...updateFlagOptions },
    args: 1,
    async run(env, values, [id]) {
      const container = (await env.runtime()).load(id!);
      const file = str(values, 'resources');
      const resources: LinuxResources = file
        ? (JSON.parse(fs.readFileSync(file === '-' ? 0 : file, 'utf8')) as LinuxResources)
        : resourcesFromFlags(values);
      await container.update(resources);
      return 0;
    },
  },
  {
    name: 'events',
    summary: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    usage: 'events [command options] <container-id>',
    options: { interval: { type: 'string' }, stats: { type: 'boolean' } },
    args: 1,
    async run(env, values, [id]) {
      const interval = str(values, 'interval') ?? '5s';
      const container = (await env.runtime()).load(id!);
      await container.events({ stats: flag(values, 'stats'), intervalMs: parseDuration(interval) }, (event) => {
        writeStdout(JSON.stringify(event) + '\n');
      });
      return 0;
    },
  },
];

/** Go durations as runc's --interval takes them: 500ms, 5s, 1m. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) throw new Error(`invalid duration "${text}"`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}
