// Starts a program with the caller's stdio and given fds from 3 on, through the engine's own
// spawn: Bun.spawn under Bun, where node:child_process and the node:net streams it builds cost
// ~60 ms of CPU per create (a profile of `tsrunc create`); child_process under Node.

/** The part of Bun's API used here (its types come with Bun, which the project does not compile against). */
interface BunSpawn {
  spawn(cmd: string[], options: { env: Record<string, string>; stdio: (string | number)[] }): { pid: number };
}

export interface Spawned {
  pid: number;
  /** Rejects if the program could not be started (Node reports that after spawn returns). */
  failed: Promise<never>;
}

export function spawnWithFds(file: string, args: string[], env: Record<string, string>, fds: number[]): Spawned {
  const stdio = ['inherit', 'inherit', 'inherit', ...fds];
  const bun = (globalThis as { Bun?: BunSpawn }).Bun;
  if (bun) return { pid: bun.spawn([file, ...args], { env, stdio }).pid, failed: new Promise<never>(() => undefined) };
  const child = process.getBuiltinModule('node:child_process').spawn(file, args, { env, stdio: stdio as ('inherit' | number)[] });
  const failed = new Promise<never>((_, reject) => child.once('error', reject));
  if (child.pid === undefined) return { pid: -1, failed };
  return { pid: child.pid, failed };
}
