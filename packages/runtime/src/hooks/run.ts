// OCI hooks: each gets the container state on stdin and runs to completion (or its timeout)
// before the next. Synchronous on purpose: the lifecycle step waits for them anyway.
// node:child_process is reached only when a hook runs: `start` and `delete` import this module,
// and the import alone costs ~5 ms of their start-up under Bun, with no hook to run.
import type { Hook, State } from '@tsrunc/spec-schemas';
import { libc } from '../sys/libc.js';

export type HookPhase = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

export interface HookOptions {
  /** The hook's working directory; by default the caller's (runc's, the bundle's for the CLI). */
  cwd?: string;
}

/**
 * A signal as Go's exec package words a hook killed by it ("signal: bad system call"), which is
 * what runc reports: the C library's description (strsignal), its first letter lowered as Go's
 * table has it. Reached only when a hook was killed, so no FFI is bound for hooks that succeed.
 */
function describeSignal(name: NodeJS.Signals): string {
  const strsignal = libc.func('const char *strsignal(int sig)');
  const text = strsignal(process.getBuiltinModule('node:os').constants.signals[name]) as string;
  return `signal: ${text.charAt(0).toLowerCase()}${text.slice(1)}`;
}

/** ", stdout: ..., stderr: ...": what the hook printed, as runc adds it, each part only when there is one. */
function hookOutput(stdout: Buffer, stderr: Buffer): string {
  const parts = [['stdout', stdout], ['stderr', stderr]] as const;
  return parts.map(([name, data]) => [name, data.toString().trim().replace(/\s+/g, ' ')]).filter(([, text]) => text).map(([name, text]) => `, ${name}: ${text}`).join('');
}

/**
 * Runs one hook to completion; throws naming the phase, the hook's index and path, then runc's
 * words ("error running hook: exit status 3", "...: signal: bad system call", "hook ran past
 * specified timeout of 2.0s"), which callers and runc's own tests match.
 */
function runHook(phase: HookPhase, index: number, hook: Hook, state: State, options: HookOptions): void {
  const [argv0, ...args] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
  const result = process.getBuiltinModule('node:child_process').spawnSync(hook.path, args, {
    argv0,
    cwd: options.cwd,
    input: JSON.stringify(state),
    env: Object.fromEntries((hook.env ?? []).map(splitEnv)),
    timeout: hook.timeout ? hook.timeout * 1000 : undefined,
    killSignal: 'SIGKILL',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1 << 20,
  });
  const what = `${phase} hook #${index} (${hook.path})`;
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') throw new Error(`${what}: hook ran past specified timeout of ${hook.timeout!.toFixed(1)}s`);
    throw new Error(`${what}: error running hook: ${result.error.message}`);
  }
  if (result.status !== 0) {
    const how = result.signal ? describeSignal(result.signal) : `exit status ${result.status}`;
    throw new Error(`${what}: error running hook: ${how}${hookOutput(result.stdout, result.stderr)}`);
  }
}

/** Runs the hooks in order; throws on the first failure, naming the phase and the hook. */
export function runHooks(phase: HookPhase, hooks: Hook[] | undefined, state: State, options: HookOptions = {}): void {
  for (const [index, hook] of (hooks ?? []).entries()) runHook(phase, index, hook, state, options);
}

/**
 * Runs every hook, each whatever the ones before did: for poststop, whose failures the
 * runtime-spec says are warnings after which "the remaining hooks and lifecycle continue".
 */
export function runHooksWarning(phase: HookPhase, hooks: Hook[] | undefined, state: State, warn: (message: string) => void): void {
  for (const [index, hook] of (hooks ?? []).entries()) {
    try {
      runHook(phase, index, hook, state, {});
    } catch (err) {
      warn((err as Error).message);
    }
  }
}

function splitEnv(entry: string): [string, string] {
  const eq = entry.indexOf('=');
  return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
}
