// ADD of a git repository, from a real git daemon on loopback serving a repository made here:
// the remote's HEAD, a tag, a subdirectory, --keep-git-dir, the cache following the commit, and
// refs that do not exist, that look like options, or that lead through a symlink out of the checkout.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { count, freePort, project } from './project.js';

function git(cwd: string, ...args: string[]): void {
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

t.test('ADD <git repository>', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-git-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const work = path.join(dir, 'work');
  fs.mkdirSync(path.join(work, 'sub'), { recursive: true });
  git(dir, 'init', '-q', work);
  fs.writeFileSync(path.join(work, 'a.txt'), 'first\n');
  fs.writeFileSync(path.join(work, 'sub', 'b.txt'), 'in sub\n');
  git(work, 'add', '.');
  git(work, 'commit', '-q', '-m', 'one');
  git(work, 'tag', 'v1');
  fs.writeFileSync(path.join(work, 'a.txt'), 'second\n');
  git(work, 'commit', '-q', '-am', 'two');
  git(dir, 'clone', '-q', '--bare', work, path.join(dir, 'repo.git'));

  const port = await freePort();
  const daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${dir}`, '--listen=127.0.0.1', `--port=${port}`, dir], { stdio: 'ignore' });
  t.teardown(async () => {
    daemon.kill();
    if (daemon.exitCode === null && daemon.signalCode === null) await once(daemon, 'exit');
  });
  await listening(port);
  const repo = `git://127.0.0.1:${port}/repo.git`;

  const p = project(t, {
    Dockerfile: [
      'FROM scratch',
      `ADD ${repo} /src/`,
      `ADD ${repo}#v1 /v1/`,
      `ADD ${repo}#main:sub /sub/`,
      `ADD --keep-git-dir=true ${repo}#main /kept/`,
      'CMD ["none"]',
      '',
    ].join('\n'),
  });
  const r = p.build(['-t', 'git:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('git:1');
  const read = (rel: string) => fs.readFileSync(path.join(rootfs, rel), 'utf8');
  t.equal(read('src/a.txt'), 'second\n', 'the remote HEAD, its files in the destination');
  t.notOk(fs.existsSync(path.join(rootfs, 'src/.git')), 'without .git');
  t.equal(read('v1/a.txt'), 'first\n', 'a tag');
  t.same(fs.readdirSync(path.join(rootfs, 'sub')), ['b.txt'], 'a subdirectory');
  t.ok(fs.existsSync(path.join(rootfs, 'kept/.git')), '--keep-git-dir=true keeps .git');

  t.equal(count(p.build(['-t', 'git:1']).stderr, 'CACHED'), 4, 'the same commits: every step cached');
  fs.writeFileSync(path.join(work, 'a.txt'), 'third\n');
  git(work, 'commit', '-q', '-am', 'three');
  // A link in the repository to the host's /etc: a subdirectory through it must not reach it.
  fs.symlinkSync('/etc', path.join(work, 'escape'));
  git(work, 'add', 'escape');
  git(work, 'commit', '-q', '-m', 'link');
  git(work, 'push', '-q', path.join(dir, 'repo.git'), 'main');
  const moved = p.build(['-t', 'git:2']);
  t.equal(moved.status, 0, moved.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('git:2'), 'src/a.txt'), 'utf8'), 'third\n', 'a new commit is fetched and rebuilt');

  for (const [fragment, reason] of [
    ['no-such-branch', /git fetch: .*no-such-branch/],
    ['--upload-pack=false', /git fetch: .*couldn't find remote ref --upload-pack=false/],
    ['main:escape', /escape is not a directory of the repository/],
  ] as const) {
    const bad = project(t, { Dockerfile: `FROM scratch\nADD ${repo}#${fragment} /x/\n` }).build([]);
    t.equal(bad.status, 1, `#${fragment} fails the build`);
    t.match(bad.stderr, new RegExp(`Dockerfile:2: ADD git://\\S+#${fragment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${reason.source}`), 'with the reason');
  }
});
