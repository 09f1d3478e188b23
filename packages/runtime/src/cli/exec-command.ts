// `tsrunc exec`: the process comes from --process FILE, or from the container's own process
// spec with the command line's arguments and overrides, as runc builds it.
import fs from 'node:fs';
import type { Process } from '@tsrunc/spec-schemas';
import type { Container } from '../index.js';
import { parseSubCgroupArgs } from '../cgroups/sub-cgroup.js';
import { flag, int, list, str, UsageError, type Command, type Values } from './command.js';

async function processFromFile(file: string): Promise<Process> {
  // Validated as the process of a minimal config, so that the schema speaks of it.
  const text = fs.readFileSync(file, 'utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  // runc decodes the file onto a zeroed process: without "user" the process runs as uid 0, gid 0.
  if (typeof doc === 'object' && doc !== null && !('user' in doc)) doc = { ...doc, user: { uid: 0, gid: 0 } };
  const { parseRuntimeConfig } = await import('@tsrunc/spec-schemas');
  const parsed = parseRuntimeConfig(JSON.stringify({ ociVersion: '1.2.0', process: doc }), file);
  if (!parsed.ok) throw new Error(`${file}: ${parsed.error.replace(/^\/process/, '')}`);
  return parsed.value.process!;
}

function parseUser(text: string): { uid: number; gid?: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(text);
  if (!m) throw new UsageError(`invalid --user "${text}": expected uid[:gid], numeric`);
  return m[2] === undefined ? { uid: Number(m[1]) } : { uid: Number(m[1]), gid: Number(m[2]) };
}

function processFromFlags(container: Container, values: Values, args: string[]): Process {
  if (args.length === 0) throw new UsageError('exec: no command given (and no --process)');
  const base = structuredClone(container.config().process!);
  const p: Process = { ...base, args, terminal: flag(values, 'tty') };
  const cwd = str(values, 'cwd');
  if (cwd) p.cwd = cwd;
  const apparmor = str(values, 'apparmor');
  if (apparmor) p.apparmorProfile = apparmor;
  const label = str(values, 'process-label');
  if (label) p.selinuxLabel = label;
  const caps = list(values, 'cap');
  if (caps.length > 0) {
    const c = (p.capabilities ??= {});
    c.bounding = [...(c.bounding ?? []), ...caps];
    c.effective = [...(c.effective ?? []), ...caps];
    c.permitted = [...(c.permitted ?? []), ...caps];
    // Ambient capabilities need inheritable ones, which --cap does not add: only when the spec has some.
    if (c.inheritable) c.ambient = [...(c.ambient ?? []), ...caps];
  }
  p.env = [...(p.env ?? []), ...list(values, 'env')];
  if (values['no-new-privs'] !== undefined) p.noNewPrivileges = flag(values, 'no-new-privs');
  const user = str(values, 'user');
  if (user) p.user = { ...p.user, ...parseUser(user) };
  for (const gid of list(values, 'additional-gids')) {
    if (!/^\d+$/.test(gid)) throw new UsageError(`invalid --additional-gids "${gid}"`);
    p.user.additionalGids = [...(p.user.additionalGids ?? []), Number(gid)];
  }
  return p;
}

export const execCommand: Command = {
  name: 'exec',
  summary: 'execute new process inside the container',
  usage: 'exec [command options] <container-id> <command> [command options]  || -p process.json <container-id>',
  options: {
    'console-socket': { type: 'string' },
    cwd: { type: 'string' },
    env: { type: 'string', short: 'e', multiple: true },
    tty: { type: 'boolean', short: 't' },
    user: { type: 'string', short: 'u' },
    'additional-gids': { type: 'string', short: 'g', multiple: true },
    process: { type: 'string', short: 'p' },
    detach: { type: 'boolean', short: 'd' },
    'pid-file': { type: 'string' },
    'process-label': { type: 'string' },
    apparmor: { type: 'string' },
    'no-new-privs': { type: 'boolean' },
    cap: { type: 'string', short: 'c', multiple: true },
    'preserve-fds': { type: 'string' },
    'ignore-paused': { type: 'boolean' },
    cgroup: { type: 'string', multiple: true },
  },
  flagsBeforeArgsOnly: true,
  failureCode: 255,
  args: [1, Number.MAX_SAFE_INTEGER],
  async run(env, values, [id, ...args]) {
    const file = str(values, 'process');
    const cgroups = list(values, 'cgroup');
    const container = (await env.runtime()).load(id!);
    return container.exec({
      process: file ? await processFromFile(file) : processFromFlags(container, values, args),
      consoleSocket: str(values, 'console-socket'),
      detach: flag(values, 'detach'),
      pidFile: str(values, 'pid-file'),
      preserveFds: int(values, 'preserve-fds', 0),
      ignorePaused: flag(values, 'ignore-paused'),
      ...(cgroups.length > 0 ? { subCgroups: parseSubCgroupArgs(cgroups) } : {}),
    });
  },
};
