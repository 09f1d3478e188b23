// ADD of a git repository, from a real git daemon on loopback serving a repository made here:
// the remote's HEAD, a tag, a subdirectory, --keep-git-dir, the cache following the commit, and
// refs that do not exist, that look like options, or that lead through a symlink out of the checkout.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { git, serveRepository } from './git-daemon.js';
import { count, project } from './project.js';

t.test('ADD <git repository>', async (t) => {
  const served = await serveRepository(t, { 'a.txt': 'first\n', 'sub/b.txt': 'in sub\n' });
  const { work, url: repo } = served;
  git(work, 'tag', 'v1');
  fs.writeFileSync(path.join(work, 'a.txt'), 'second\n');
  served.commit('two');

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
  served.commit('three');
  // A link in the repository to the host's /etc: a subdirectory through it must not reach it.
  fs.symlinkSync('/etc', path.join(work, 'escape'));
  served.commit('link');
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
