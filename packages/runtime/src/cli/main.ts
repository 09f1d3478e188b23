// tsrunc: an OCI runtime with runc's command line.
import { FlagError, parseFlags, type Options } from './argv.js';
import { UsageError, type Command, type CommandEnv } from './command.js';
import { checkpointCommands } from './checkpoint-commands.js';
import { execCommand } from './exec-command.js';
import { manageCommands } from './manage-commands.js';
import { lifecycleCommands } from './lifecycle-commands.js';
import { infoCommands } from './info-commands.js';
import { Logger, type LogFormat } from './log.js';
import { writeStdout } from './output.js';
import { VERSION_TEXT } from './version.js';

const commands = new Map<string, Command>([...lifecycleCommands, execCommand, ...manageCommands, ...checkpointCommands, ...infoCommands].map((c) => [c.name, c]));

const globalOptions: Options = {
  root: { type: 'string' },
  log: { type: 'string' },
  'log-format': { type: 'string' },
  debug: { type: 'boolean' },
  'systemd-cgroup': { type: 'boolean' },
  rootless: { type: 'string' },
  criu: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
};
const helpOption: Options = { help: { type: 'boolean', short: 'h' } };

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
  let log = new Logger({ format: 'text', debug: false });
  let failureCode = 1;
  try {
    const { values: g, positionals: rest } = parseFlags(argv, globalOptions, true);
    const format = (g['log-format'] ?? 'text') as LogFormat;
    if (format !== 'text' && format !== 'json') throw new UsageError(`invalid log-format: ${format}`);
    log = new Logger({ file: g.log as string | undefined, format, debug: g.debug === true });
    if (g.version) {
      writeStdout(VERSION_TEXT);
      return 0;
    }
    const [name, ...commandArgs] = rest;
    if (name === undefined || g.help) {
      writeStdout(usage());
      return 0;
    }
    const command = commands.get(name);
    if (!command) {
      log.error(`No help topic for '${name}'`);
      return 3;
    }
    failureCode = command.failureCode ?? 1;
    const parsed = parseFlags(commandArgs, { ...helpOption, ...command.options }, command.flagsBeforeArgsOnly);
    if (parsed.values.help === true) {
      writeStdout(commandUsage(command));
      return 0;
    }
    checkArgCount(command, parsed.positionals);
    // Loaded on use, not at the top: the state store binds libc (koffi, ~15 ms of start-up), which
    // --version, --help and usage errors do without.
    const runtimeLog = log;
    const env: CommandEnv = {
      async runtime() {
        const { Runtime } = await import('../runtime.js');
        return new Runtime({ root: (g.root as string | undefined) ?? '/run/tsrunc', systemdCgroup: g['systemd-cgroup'] === true, log: runtimeLog, ...(g.criu ? { criu: g.criu as string } : {}) });
      },
    };
    return await command.run(env, parsed.values, parsed.positionals);
  } catch (err) {
    log.error((err as Error).message);
    // As runc: a command line it cannot read exits 1 whatever the command's own failure code.
    return err instanceof FlagError ? 1 : failureCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
