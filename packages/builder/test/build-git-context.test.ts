// A git repository as the build context (URL#REF:SUBDIR), as BuildKit takes one: served here by a
// real git daemon on loopback; its ref and subdirectory, its Dockerfile and .dockerignore.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { serveRepository } from './git-daemon.js';
import { project, TSBUILD } from './project.js';

t.test('a git URL is the build context: its ref and subdirectory, its Dockerfile and .dockerignore', async (t) => {
  const repo = await serveRepository(t, {
    'app/Dockerfile': 'FROM scratch\nCOPY . /ctx/\nCMD ["none"]\n',
    'app/.dockerignore': 'secret.txt\n',
    'app/hello.txt': 'first\n',
    'app/secret.txt': 'not for the image\n',
    'top.txt': 'outside the subdirectory\n',
  });
  fs.writeFileSync(path.join(repo.work, 'app', 'hello.txt'), 'second\n');
  repo.commit('two', 'v2');
  const p = project(t, {});
  const build = (...args: string[]) => spawnSync(TSBUILD, ['build', '--root', p.root, '--progress', 'plain', ...args], { encoding: 'utf8', env: { ...process.env, TMPDIR: p.tmpdir } });

  const head = build('-t', 'git:head', `${repo.url}#main:app`);
  t.equal(head.status, 0, head.stderr);
  const rootfs = p.unpack('git:head');
  t.same(fs.readdirSync(path.join(rootfs, 'ctx')).sort(), ['.dockerignore', 'Dockerfile', 'hello.txt'], 'the subdirectory is the context, secret.txt left out by its .dockerignore, no .git');
  t.equal(fs.readFileSync(path.join(rootfs, 'ctx', 'hello.txt'), 'utf8'), 'second\n', 'at the branch\'s commit');

  const first = spawnSync('git', ['rev-list', '--max-parents=0', 'HEAD'], { cwd: repo.work, encoding: 'utf8' }).stdout.trim();
  const old = build('-t', 'git:first', `${repo.url}#${first}:app`);
  t.equal(old.status, 0, old.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('git:first'), 'ctx', 'hello.txt'), 'utf8'), 'first\n', 'a commit as the ref');

  const whole = build('-f', 'app/Dockerfile', '-t', 'git:whole', repo.url);
  t.equal(whole.status, 0, whole.stderr);
  t.ok(fs.existsSync(path.join(p.unpack('git:whole'), 'ctx', 'top.txt')), 'without a fragment, the repository\'s HEAD, whole, -f naming the Dockerfile in it');

  const missing = build(`${repo.url}#no-such-branch`);
  t.equal(missing.status, 1, 'a ref that does not exist fails');
  t.match(missing.stderr, /^tsbuild: error: build context git:\/\/127\.0\.0\.1:\d+\/repo\.git#no-such-branch: git fetch: .*no-such-branch/m, 'naming the context and the ref');
  const notDir = build(`${repo.url}#main:app/hello.txt`);
  t.match(notDir.stderr, /^tsbuild: error: build context .*: app\/hello\.txt is not a directory of the repository$/m, 'a subdirectory that is not one fails');
  t.same(fs.readdirSync(p.tmpdir).filter((n) => n.startsWith('tsbuild-git-context-')), [], 'no checkout is left behind');
});
