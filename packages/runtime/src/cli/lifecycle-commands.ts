// create, start, run, state, kill, delete, list: the lifecycle as runc's command line has it.
// Each command asks the library for what it needs when it runs (the Runtime loads each operation
// on first use): containerd calls tsrunc several times per container, and `state` should not pay
// for what `create` needs (libc bindings, schemas, cgroups).
import { flag, int, str, UsageError, type Command, type Options, type Values } from './command.js';
import { formatTable } from './table.js';
import { writeStdout } from './output.js';

const createOptions: Options = {
  bundle: { type: 'string', short: 'b' },
  'console-socket': { type: 'string' },
  'pid-file': { type: 'string' },
  'no-pivot': { type: 'boolean' },
  'no-new-keyring': { type: 'boolean' },
  'preserve-fds': { type: 'string' },
};

function createArgs(values: Values) {
  return {
    bundle: str(values, 'bundle') ?? process.cwd(),
    pidFile: str(values, 'pid-file'),
    consoleSocket: str(values, 'console-socket'),
    noPivot: flag(values, 'no-pivot'),
    noNewKeyring: flag(values, 'no-new-keyring'),
    preserveFds: int(values, 'preserve-fds', 0),
  };
}

/**
 * TSRUNC_KILL_WITH_PARENT=PID (tsrunc's own, for clients such as the builder): a foreground run whose
 * parent PID dies kills its container rather than leaving it running (runc has no such option).
 */
function killWithParent(): { killWithParent?: number } {
  const text = process.env.TSRUNC_KILL_WITH_PARENT;
  if (text === undefined) return {};
  if (!/^\d+$/.test(text)) throw new UsageError(`TSRUNC_KILL_WITH_PARENT="${text}": not a pid`);
  return { killWithParent: Number(text) };
}

export const lifecycleCommands: Command[] = [
  {
    name: 'create',
    summary: 'create a container',
    usage: 'create [command options] <container-id>',
    options: createOptions,
    args: 1,
    async run(env, values, [id]) {
      await (await env.runtime()).create(id!, createArgs(values));
      return 0;
    },
  },
  {
    name: 'start',
    summary: 'executes the user defined process in a created container',
    usage: 'start <container-id>',
    options: {},
    args: 1,
    async run(env, _values, [id]) {
      await (await env.runtime()).load(id!).start();
      return 0;
    },
  },
  {
    name: 'run',
    summary: 'create and run a container',
    usage: 'run [command options] <container-id>',
    options: { ...createOptions, detach: { type: 'boolean', short: 'd' }, 'keep': { type: 'boolean' } },
    args: 1,
    async run(env, values, [id]) {
      return (await env.runtime()).run(id!, { ...createArgs(values), detach: flag(values, 'detach'), keep: flag(values, 'keep'), ...killWithParent() });
    },
  },
  {
    name: 'state',
    summary: 'output the state of a container',
    usage: 'state <container-id>',
    options: {},
    args: 1,
    async run(env, _values, [id]) {
      writeStdout(JSON.stringify((await env.runtime()).load(id!).state(), null, '  '));
      return 0;
    },
  },
  {
    name: 'kill',
    summary: 'kill sends the specified signal (default: SIGTERM) to the container\'s init process',
    usage: 'kill [command options] <container-id> [signal]',
    options: { all: { type: 'boolean', short: 'a' } },
    args: [1, 2],
    async run(env, values, [id, signal]) {
      await (await env.runtime()).load(id!).kill(signal ?? 'SIGTERM', { all: flag(values, 'all') });
      return 0;
    },
  },
  {
    name: 'delete',
    summary: 'delete any resources held by the container often used with detached container',
    usage: 'delete [command options] <container-id>',
    options: { force: { type: 'boolean', short: 'f' } },
    args: 1,
    async run(env, values, [id]) {
      await (await env.runtime()).container(id!).delete({ force: flag(values, 'force') });
      return 0;
    },
  },
  {
    name: 'list',
    summary: 'lists containers started by runc with the given root',
    usage: 'list [command options]',
    options: { format: { type: 'string', short: 'f' }, quiet: { type: 'boolean', short: 'q' } },
    args: 0,
    async run(env, values) {
      const format = str(values, 'format') ?? 'table';
      if (format !== 'table' && format !== 'json') throw new Error(`invalid format option: ${format}`);
      const states = (await env.runtime()).list();
      if (flag(values, 'quiet')) writeStdout(states.map((s) => s.id + '\n').join(''));
      else if (format === 'json') writeStdout(JSON.stringify(states) + '\n');
      else writeStdout(formatTable(states));
      return 0;
    },
  },
];
