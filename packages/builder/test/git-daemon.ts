// A git repository made for a test and served by a real `git daemon` on loopback (git://), all of
// it removed, and the daemon stopped, when the test ends.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './project.js';

export function git(cwd: string, ...args: string[]): void {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

async function listening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const socket = net.connect(port, '127.0.0.1');
    const ok = await new Promise<boolean>((resolve) => { socket.once('connect', () => resolve(true)); socket.once('error', () => resolve(false)); });
    socket.destroy();
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`git daemon did not listen on ${port}`);
}

export interface ServedRepository {
  /** git://127.0.0.1:PORT/repo.git */
  url: string;
  /** The working tree the commits are made in (its branch is main). */
  work: string;
  /** Commits what the working tree has, and publishes it to the served repository. */
  commit(message: string, tag?: string): void;
}

/** A repository whose first commit holds `files`, served on a free loopback port. */
export async function serveRepository(t: { teardown(fn: () => void | Promise<void>): void }, files: Record<string, string>): Promise<ServedRepository> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-git-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const work = path.join(dir, 'work');
  const bare = path.join(dir, 'repo.git');
  fs.mkdirSync(work);
  git(dir, 'init', '-q', work);
  git(dir, 'init', '-q', '--bare', bare);
  const commit = (message: string, tag?: string) => {
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', message);
    if (tag !== undefined) git(work, 'tag', tag);
    git(work, 'push', '-q', '--tags', bare, 'main');
  };
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(work, name)), { recursive: true });
    fs.writeFileSync(path.join(work, name), content);
  }
  commit('first');
  const port = await freePort();
  const daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${dir}`, '--listen=127.0.0.1', `--port=${port}`, dir], { stdio: 'ignore' });
  t.teardown(async () => {
    daemon.kill();
    if (daemon.exitCode === null && daemon.signalCode === null) await once(daemon, 'exit');
  });
  await listening(port);
  return { url: `git://127.0.0.1:${port}/repo.git`, work, commit };
}
