// --build-context NAME=DIR, as BuildKit takes a local named context: COPY --from, RUN --mount
// from= and FROM read the directory, without what its .dockerignore leaves out.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { busyboxProject } from './project.js';

t.test('--build-context NAME=DIR: COPY --from, RUN --mount from= and FROM read the directory, as its .dockerignore leaves it', async (t) => {
  const p = busyboxProject(t, [
    'FROM base',
    'COPY --from=extra . /copied/',
    'RUN --mount=from=extra,target=/mnt ls -a /mnt > /mounted && cat /mnt/data.txt >> /mounted',
    'FROM extra AS fromctx',
    'FROM base',
    'COPY --from=fromctx / /fromctx/',
    'COPY --from=1 /mounted /copied/ /result/',
  ]);
  const extra = path.join(p.dir, 'extra');
  fs.mkdirSync(path.join(extra, 'skipped'), { recursive: true });
  fs.writeFileSync(path.join(extra, 'data.txt'), 'named context\n');
  fs.writeFileSync(path.join(extra, 'skipped', 'x'), 'x\n');
  fs.writeFileSync(path.join(extra, '.dockerignore'), 'skipped\n');
  const r = p.build(['--progress', 'plain', '--build-context', `extra=${extra}`, '-t', 'named:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('named:1');
  t.same(fs.readdirSync(path.join(rootfs, 'result')).sort(), ['.dockerignore', 'data.txt', 'mounted'], 'COPY --from=NAME copies its files, not what .dockerignore leaves out');
  t.equal(fs.readFileSync(path.join(rootfs, 'result', 'mounted'), 'utf8'), '.\n..\n.dockerignore\ndata.txt\nnamed context\n', 'RUN --mount from=NAME binds it, the ignored directory hidden');
  t.same(fs.readdirSync(path.join(rootfs, 'fromctx')).sort(), ['.dockerignore', 'data.txt'], 'FROM NAME starts from its files');

  fs.writeFileSync(path.join(extra, 'data.txt'), 'changed\n');
  const again = p.build(['--progress', 'plain', '--build-context', `extra=${extra}`, '-t', 'named:2']);
  t.equal(again.status, 0, again.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('named:2'), 'result', 'mounted'), 'utf8'), '.\n..\n.dockerignore\ndata.txt\nchanged\n', 'a change in the directory is a cache miss');

  const bad = p.build(['--build-context', `extra=${path.join(p.dir, 'nowhere')}`]);
  t.equal(bad.status, 1, 'a directory that does not exist fails');
  t.match(bad.stderr, /^tsbuild: error: --build-context extra=.*nowhere: .*nowhere is not a directory\n$/, 'in one line naming it');
  const scheme = p.build(['--build-context', 'extra=https://example.org/x.tar']);
  t.match(scheme.stderr, /^tsbuild: error: --build-context extra=https:\/\/example\.org\/x\.tar: only docker-image:\/\/, oci-layout:\/\/ and local directories are supported\n$/, 'an unsupported source is refused by name');
});
