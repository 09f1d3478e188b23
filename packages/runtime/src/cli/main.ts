// tsrunc: an OCI runtime with runc's command line.
import { parseArgs } from 'node:util';
import { normalizeFlag, splitCommandArgs, UsageError, type Command, type CommandEnv } from './command.js';
import { execCommand } from './exec-command.js';
import { manageCommands } from './manage-commands.js';
import { lifecycleCommands } from './lifecycle-commands.js';
import { infoCommands } from './info-commands.js';
import { Logger, type LogFormat } from './log.js';
import { VERSION_TEXT } from './version.js';

const commands = new Map<string, Command>([...lifecycleCommands, execCommand, ...manageCommands, ...infoCommands].map((c) => [c.name, c]));

const globalOptions = {
  root: { type: 'string' },
  log: { type: 'string' },
  'log-format': { type: 'string' },
  debug: { type: 'boolean' },
  'systemd-cgroup': { type: 'boolean' },
  rootless: { type: 'string' },
  criu: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

function usage(): string {
  const rows = [...commands.values()].map((c) => `   ${c.name.padEnd(10)} ${c.summary}`);
  return `NAME:\n   tsrunc - Open Container Initiative runtime\n\nUSAGE:\n   tsrunc [global options] command [command options] [arguments...]\n\nCOMMANDS:\n${rows.join('\n')}\n`;
}

function commandUsage(command: Command): string {
  return `NAME:\n   tsrunc ${command.name} - ${command.summary}\n\nUSAGE:\n   tsrunc ${command.usage}\n`;
}

function checkArgCount(command: Command, positionals: string[]): void {
  const [min, max] = typeof command.args === 'number' ? [command.args, command.args] : command.args;
  if (positionals.length < min || positionals.length > max) {
    const want = min === max ? `exactly ${min}` : `${min} to ${max}`;
    throw new UsageError(`tsrunc: "${command.name}" requires ${want} argument(s)`);
  }
}

async function main(argv: string[]): Promise<number> {
  const commandAt = argv.findIndex((arg, i) => !arg.startsWith('-') && !isGlobalFlagValue(argv, i));
  const globalArgs = (commandAt < 0 ? argv : argv.slice(0, commandAt)).map(normalizeFlag);
  let log = new Logger({ format: 'text', debug: false });
  let failureCode = 1;
  try {
    const { values: g } = parseArgs({ args: globalArgs, options: globalOptions, strict: true });
    const format = (g['log-format'] ?? 'text') as LogFormat;
    if (format !== 'text' && format !== 'json') throw new UsageError(`invalid log-format: ${format}`);
    log = new Logger({ file: g.log, format, debug: g.debug === true });
    if (g.version) {
      process.stdout.write(VERSION_TEXT);
      return 0;
    }
    if (commandAt < 0 || g.help) {
      process.stdout.write(usage());
      return 0;
    }
    const name = argv[commandAt]!;
    const command = commands.get(name);
    if (!command) {
      log.error(`No help topic for '${name}'`);
      return 3;
    }
    failureCode = command.failureCode ?? 1;
    const [flagArgs, verbatim] = splitCommandArgs(argv.slice(commandAt + 1), command);
    if (flagArgs.includes('--help') || flagArgs.includes('-h')) {
      process.stdout.write(commandUsage(command));
      return 0;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: flagArgs, options: command.options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError((err as Error).message.split('\n')[0]!.replace(/^Unknown option '(.*)'.*/, 'flag provided but not defined: $1'));
    }
    parsed.positionals.push(...verbatim);
    checkArgCount(command, parsed.positionals);
    // Loaded on use, not at the top: the state store binds libc (koffi, ~15 ms of start-up), which
    // --version, --help and usage errors do without.
    const runtimeLog = log;
    const env: CommandEnv = {
      async runtime() {
        const { Runtime } = await import('../index.js');
        return new Runtime({ root: g.root ?? '/run/tsrunc', systemdCgroup: g['systemd-cgroup'] === true, log: runtimeLog });
      },
    };
    return await command.run(env, parsed.values, parsed.positionals);
  } catch (err) {
    log.error((err as Error).message);
    return failureCode;
  }
}

/** True when argv[i] is the value of a global flag that takes one (`--root /x`). */
function isGlobalFlagValue(argv: string[], i: number): boolean {
  const prev = argv[i - 1];
  if (!prev || prev.includes('=')) return false;
  const name = prev.replace(/^--?/, '') as keyof typeof globalOptions;
  return globalOptions[name]?.type === 'string';
}

process.exitCode = await main(process.argv.slice(2));
