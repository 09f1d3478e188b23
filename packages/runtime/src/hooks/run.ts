// OCI hooks: each gets the container state on stdin and runs to completion (or its timeout)
// before the next. Synchronous on purpose: the lifecycle step waits for them anyway.
import { spawnSync } from 'node:child_process';
import type { Hook, State } from '@tsrunc/spec-schemas';

export type HookPhase = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

/** Runs the hooks in order; throws on the first failure, naming the phase and the hook. */
export function runHooks(phase: HookPhase, hooks: Hook[] | undefined, state: State): void {
  for (const [index, hook] of (hooks ?? []).entries()) {
    const [argv0, ...args] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
    const result = spawnSync(hook.path, args, {
      argv0,
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
      if (code === 'ETIMEDOUT') throw new Error(`error running ${what}: timed out after ${hook.timeout}s`);
      throw new Error(`error running ${what}: ${result.error.message}`);
    }
    if (result.status !== 0) {
      const how = result.signal ? `killed by ${result.signal}` : `exit status ${result.status}`;
      const output = `${result.stdout.toString().trim()} ${result.stderr.toString().trim()}`.trim();
      throw new Error(`error running ${what}: ${how}${output ? `, output: ${output.replace(/\s+/g, ' ')}` : ''}`);
    }
  }
}

function splitEnv(entry: string): [string, string] {
  const eq = entry.indexOf('=');
  return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
}
