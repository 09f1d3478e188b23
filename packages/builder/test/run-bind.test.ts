// RUN --mount=type=bind: what is bound counts in the step's cache key (the context by content,
// a stage by its key), and a symlink in the context cannot bind anything of the host.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { BUSYBOX_BASE, busyboxProject, count } from './project.js';

t.test('a bind mount of the context is part of the cache key by content', async (t) => {
  const p = busyboxProject(t, [
    'FROM base AS other',
    'RUN echo one > /stage.txt',
    'FROM base',
    'RUN --mount=type=bind,source=data,target=/d cat /d/file > /from-context',
    'RUN --mount=type=bind,from=other,source=/stage.txt,target=/s.txt cat /s.txt > /from-stage',
  ], { 'data/file': 'first\n', 'unrelated.txt': 'x\n' });
  const read = (ref: string, file: string) => fs.readFileSync(path.join(p.unpack(ref), file), 'utf8');

  const first = p.build(['-t', 'bind:1']);
  t.equal(first.status, 0, first.stderr);
  t.equal(read('bind:1', 'from-context'), 'first\n');
  t.equal(read('bind:1', 'from-stage'), 'one\n');
  t.equal(count(p.build(['-t', 'bind:1']).stderr, 'CACHED'), 5, 'nothing changed: every step is cached');

  fs.writeFileSync(path.join(p.dir, 'ctx', 'unrelated.txt'), 'y\n');
  t.equal(count(p.build(['-t', 'bind:1']).stderr, 'CACHED'), 5, 'a change outside what is bound changes nothing');

  fs.writeFileSync(path.join(p.dir, 'ctx', 'data', 'file'), 'second\n');
  const changed = p.build(['-t', 'bind:2']);
  t.equal(changed.status, 0, changed.stderr);
  t.equal(count(changed.stderr, 'CACHED'), 3, 'a change to the bound files reruns the step that binds them, and what follows');
  t.equal(read('bind:2', 'from-context'), 'second\n', 'the new content is read');

  const dockerfile = path.join(p.dir, 'ctx', 'Dockerfile');
  fs.writeFileSync(dockerfile, fs.readFileSync(dockerfile, 'utf8').replace('echo one', 'echo two'));
  const stage = p.build(['-t', 'bind:3']);
  t.equal(stage.status, 0, stage.stderr);
  t.equal(read('bind:3', 'from-stage'), 'two\n', 'a changed stage reruns the step that binds from it');
});

t.test('a symlink in the context binds inside the context, never the host', async (t) => {
  const p = busyboxProject(t, [
    'FROM base',
    'RUN --mount=type=bind,source=inside,target=/m cat /m/file > /through-link',
  ], { 'data/file': 'the context\'s own\n' });
  fs.symlinkSync('/data', path.join(p.dir, 'ctx', 'inside'));
  const ok = p.build(['-t', 'link:1']);
  t.equal(ok.status, 0, ok.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('link:1'), 'through-link'), 'utf8'), 'the context\'s own\n', 'an absolute link resolves against the context');

  fs.symlinkSync('/etc', path.join(p.dir, 'ctx', 'escape'));
  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), [...BUSYBOX_BASE, 'RUN --mount=type=bind,source=escape/hostname,target=/h cat /h', ''].join('\n'));
  const escape = p.build(['-t', 'link:2']);
  t.equal(escape.status, 1, 'a link to the host\'s /etc finds nothing');
  t.match(escape.stderr, /--mount=type=bind: escape\/hostname does not exist in the build context/);
  t.notMatch(escape.stderr, new RegExp(fs.readFileSync('/etc/hostname', 'utf8').trim() || '^$'), 'the host\'s file was not read');
});

t.test('rw binds take writes that neither the context nor the image keeps', async (t) => {
  const p = busyboxProject(t, [
    'FROM base',
    'RUN --mount=type=bind,source=data,target=/d,rw echo scribble > /d/new && rm /d/file && ls /d > /dir-listing',
    'RUN --mount=type=bind,source=data/file,target=/f.txt,rw echo appended >> /f.txt && cat /f.txt > /file-seen',
    'RUN --mount=type=bind,source=data,target=/d cat /d/file > /after',
  ], { 'data/file': 'original\n' });
  const r = p.build(['-t', 'rw:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('rw:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'dir-listing'), 'utf8'), 'new\n', 'the step saw its own writes to the directory');
  t.equal(fs.readFileSync(path.join(rootfs, 'file-seen'), 'utf8'), 'original\nappended\n', 'and to the file');
  t.equal(fs.readFileSync(path.join(rootfs, 'after'), 'utf8'), 'original\n', 'the next step sees the context as it was');
  t.same(fs.readdirSync(path.join(p.dir, 'ctx', 'data')), ['file'], 'the context itself is untouched');
  t.equal(fs.readFileSync(path.join(p.dir, 'ctx', 'data', 'file'), 'utf8'), 'original\n');
  t.notOk(fs.existsSync(path.join(rootfs, 'd/new')), 'no write reached the layer');
  t.notOk(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(p.tmpdir), 'no overlay is left mounted');
});

t.test('a cache mount with from= starts as a copy of the stage\'s directory, then lives on its own', async (t) => {
  const p = busyboxProject(t, [
    'FROM base AS seed',
    'RUN mkdir -p /seed && echo from-the-stage > /seed/start.txt',
    'FROM base',
    'ARG RUN_ID',
    'RUN --mount=type=cache,id=seeded,from=seed,source=/seed,target=/c cat /c/start.txt > /first-saw && echo "$RUN_ID" >> /c/runs && cat /c/runs > /runs-seen',
  ], {});
  const first = p.build(['-t', 'seeded:1', '--build-arg', 'RUN_ID=one']);
  t.equal(first.status, 0, first.stderr);
  const rootfs = p.unpack('seeded:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'first-saw'), 'utf8'), 'from-the-stage\n', 'the cache starts with the stage\'s files');
  t.equal(fs.readFileSync(path.join(rootfs, 'runs-seen'), 'utf8'), 'one\n');
  const second = p.build(['-t', 'seeded:2', '--build-arg', 'RUN_ID=two']);
  t.equal(second.status, 0, second.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('seeded:2'), 'runs-seen'), 'utf8'), 'one\ntwo\n', 'what a step wrote is there for the next build');

  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), [...BUSYBOX_BASE, 'FROM base', 'RUN --mount=type=cache,from=base,source=/nowhere,target=/c true', ''].join('\n'));
  const missing = p.build([]);
  t.equal(missing.status, 1, 'a source the stage lacks fails');
  t.match(missing.stderr, /--mount=type=cache: \/nowhere does not exist in stage base/);
});

t.test('a bind of the context shows what BuildKit sends: nothing .dockerignore leaves out', async (t) => {
  const p = busyboxProject(t, [
    'FROM base',
    'RUN --mount=type=bind,target=/ctx find /ctx -path /ctx/busybox -prune -o -print | sort > /ro-listing',
    'RUN --mount=type=bind,target=/ctx,rw rm -f /ctx/kept.txt && find /ctx -path /ctx/busybox -prune -o -print | sort > /rw-listing',
    'RUN --mount=type=bind,source=sub,target=/sub find /sub | sort > /sub-listing',
  ], { '.dockerignore': 'ignored.txt\nsub/deep/*.log\nnode_modules\n', 'kept.txt': 'k\n', 'ignored.txt': 'i\n', 'sub/a.txt': 'a\n', 'sub/deep/x.log': 'x\n', 'sub/deep/y.txt': 'y\n', 'node_modules/m/index.js': 'm\n' });
  const r = p.build(['-t', 'ignored:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('ignored:1');
  const expected = ['/ctx', '/ctx/.dockerignore', '/ctx/Dockerfile', '/ctx/kept.txt', '/ctx/sub', '/ctx/sub/a.txt', '/ctx/sub/deep', '/ctx/sub/deep/y.txt'];
  t.same(fs.readFileSync(path.join(rootfs, 'ro-listing'), 'utf8').trim().split('\n'), expected, 'ignored files and directories are not there, deep ones neither');
  t.same(fs.readFileSync(path.join(rootfs, 'rw-listing'), 'utf8').trim().split('\n'), expected.filter((e) => e !== '/ctx/kept.txt'), 'nor in a writable bind');
  t.same(fs.readFileSync(path.join(rootfs, 'sub-listing'), 'utf8').trim().split('\n'), ['/sub', '/sub/a.txt', '/sub/deep', '/sub/deep/y.txt'], 'nor below a bound subdirectory');
  t.ok(fs.existsSync(path.join(p.dir, 'ctx', 'kept.txt')), 'the context is untouched');

  fs.writeFileSync(path.join(p.dir, 'ctx', 'ignored.txt'), 'changed\n');
  t.equal(count(p.build(['-t', 'ignored:1']).stderr, 'CACHED'), 5, 'a change to an ignored file changes no step');
  t.notOk(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(p.tmpdir), 'no overlay is left mounted');

  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), [...BUSYBOX_BASE, 'FROM base', 'RUN --mount=type=bind,source=ignored.txt,target=/i cat /i', ''].join('\n'));
  const direct = p.build([]);
  t.equal(direct.status, 1, 'binding an ignored file fails');
  t.match(direct.stderr, /ignored\.txt does not exist in the build context \(excluded by \.dockerignore\)/);
});
