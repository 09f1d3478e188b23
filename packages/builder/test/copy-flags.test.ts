// COPY --exclude and --parents, in real builds read back from the unpacked image: what is left
// out at the top and deep down, patterns relative to what is copied, other stages as sources,
// paths kept under the destination (from the "/./" pivot), the cache key, and bad patterns.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { count, project } from './project.js';

const TREE = {
  'app/main.go': 'package main\n',
  'app/main_test.go': 'package main\n',
  'app/README.md': 'readme\n',
  'app/docs/guide.md': 'guide\n',
  'app/docs/notes.txt': 'notes\n',
  'app/vendor/lib/lib.go': 'package lib\n',
  'top.txt': 'top\n',
  'top.go': 'package top\n',
};

/** Every file below `dir`, as sorted relative paths. */
function files(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if (fs.lstatSync(path.join(dir, child)).isDirectory()) visit(child);
      else out.push(child);
    }
  };
  if (fs.existsSync(dir)) visit('');
  return out.sort();
}

t.test('--exclude', async (t) => {
  const p = project(t, {
    ...TREE,
    Dockerfile: [
      'FROM scratch AS build',
      'ARG SKIP=*_test.go',
      'COPY --exclude=*.md --exclude=vendor app/ /a/',
      'COPY --exclude=**/*.md --exclude=${SKIP} app /b/',
      'COPY --exclude=*.txt top.* /c/',
      'COPY --exclude=docs/* --exclude=!docs/guide.md app /d/',
      'CMD ["none"]',
      'FROM scratch',
      'COPY --from=build --exclude=main*.go /a/ /from-stage/',
      'CMD ["none"]',
      '',
    ].join('\n'),
  });
  const r = p.build(['-t', 'exclude:1', '--target', 'build']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('exclude:1');
  t.same(files(path.join(rootfs, 'a')), ['docs/guide.md', 'docs/notes.txt', 'main.go', 'main_test.go'],
    'patterns are relative to the directory copied: *.md drops README.md only, vendor drops the whole directory');
  t.same(files(path.join(rootfs, 'b')), ['docs/notes.txt', 'main.go', 'vendor/lib/lib.go'], '** reaches down; an ARG in a pattern is expanded');
  t.same(files(path.join(rootfs, 'c')), ['top.go'], 'a wildcard source loses the matches that are excluded');
  t.same(files(path.join(rootfs, 'd')), ['README.md', 'docs/guide.md', 'main.go', 'main_test.go', 'vendor/lib/lib.go'], 'a "!" pattern takes a path back');

  const final = p.build(['-t', 'exclude:2']);
  t.equal(final.status, 0, final.stderr);
  t.same(files(path.join(p.unpack('exclude:2'), 'from-stage')), ['docs/guide.md', 'docs/notes.txt'], '--from=stage with --exclude');

  const again = p.build(['-t', 'exclude:2']);
  t.equal(count(again.stderr, 'CACHED'), 5, 'an unchanged build is all cache hits');
  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), fs.readFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), 'utf8').replace('--exclude=*.txt top.*', '--exclude=*.go top.*'));
  const changed = p.build(['-t', 'exclude:3', '--target', 'build']);
  t.equal(changed.status, 0, changed.stderr);
  t.equal(count(changed.stderr, 'CACHED'), 2, 'another --exclude is another step: it and what follows rebuild');
  t.same(files(path.join(p.unpack('exclude:3'), 'c')), ['top.txt'], 'and copies what the new pattern leaves');
  fs.writeFileSync(path.join(p.dir, 'ctx', 'app', 'README.md'), 'changed readme\n');
  const excludedChange = p.build(['-t', 'exclude:3', '--target', 'build']);
  t.match(excludedChange.stderr, /#\d+ \[build \d+\/\d+\] COPY --exclude=\*\.md --exclude=vendor app\/ \/a\/\n#\d+ CACHED/, 'a change to an excluded file does not miss the cache');
});

t.test('--parents', async (t) => {
  const p = project(t, {
    ...TREE,
    Dockerfile: [
      'FROM scratch',
      'COPY --parents app/main.go app/docs/*.md /p/',
      'COPY --parents ./app/./docs/notes.txt /pivot/',
      'COPY --parents --exclude=lib/*.go app/vendor /vend',
      'COPY --parents top.txt /one',
      'CMD ["none"]',
      '',
    ].join('\n'),
  });
  const r = p.build(['-t', 'parents:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('parents:1');
  t.same(files(path.join(rootfs, 'p')), ['app/docs/guide.md', 'app/main.go'], 'each source keeps its path, wildcards too');
  t.same(files(path.join(rootfs, 'pivot')), ['docs/notes.txt'], 'the path is kept from the "/./" on');
  t.same(files(path.join(rootfs, 'vend')), [], 'a directory keeps its path; --exclude applies below it');
  t.ok(fs.statSync(path.join(rootfs, 'vend/app/vendor/lib')).isDirectory(), 'its (now empty) directories are there');
  t.equal(fs.readFileSync(path.join(rootfs, 'one/top.txt'), 'utf8'), 'top\n', 'with --parents the destination is a directory, even without a "/"');
});

t.test('a bad --exclude pattern fails with its line', async (t) => {
  const p = project(t, { ...TREE, Dockerfile: 'FROM scratch\nCOPY --exclude=[oops app /a/\n' });
  const r = p.build([]);
  t.equal(r.status, 1);
  t.match(r.stderr, /Dockerfile:2: COPY --exclude=\[oops: unterminated \[/);
  const parentsOnAdd = project(t, { ...TREE, Dockerfile: 'FROM scratch\nADD --parents top.txt /x/\n' }).build([]);
  t.equal(parentsOnAdd.status, 1, 'ADD has no --parents');
  t.match(parentsOnAdd.stderr, /Dockerfile:2: .*unknown flag: --parents/);
});

t.test('a source through a symlink resolves inside its root, never on the host', async (t) => {
  const p = project(t, {
    Dockerfile: [
      'FROM scratch AS stage',
      'COPY data/ /etc/',
      'COPY tree/ /',
      'FROM scratch',
      'COPY inside/file /from-context',
      'COPY --from=stage /link-to-etc/file /from-stage',
      'COPY file-link /deref.txt',
      'COPY file-link /dir/',
      'CMD ["none"]',
      '',
    ].join('\n'),
    'data/file': 'the context\'s own\n',
  });
  const ctx = path.join(p.dir, 'ctx');
  fs.symlinkSync('/data', path.join(ctx, 'inside'));
  fs.symlinkSync('data/file', path.join(ctx, 'file-link'));
  // A link below a copied directory is copied as a link: the stage gets an absolute link to
  // /etc, its own /etc, which a COPY --from must read.
  fs.mkdirSync(path.join(ctx, 'tree'));
  fs.symlinkSync('/etc', path.join(ctx, 'tree', 'link-to-etc'));
  const r = p.build(['-t', 'links:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('links:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'from-context'), 'utf8'), 'the context\'s own\n', 'an absolute link in the context points into the context');
  t.equal(fs.readFileSync(path.join(rootfs, 'from-stage'), 'utf8'), 'the context\'s own\n', 'and one in a stage into the stage');
  t.ok(fs.lstatSync(path.join(rootfs, 'deref.txt')).isFile(), 'a source that is a link is copied as what it points to');
  t.equal(fs.readFileSync(path.join(rootfs, 'deref.txt'), 'utf8'), 'the context\'s own\n');
  t.ok(fs.lstatSync(path.join(rootfs, 'dir/file-link')).isFile(), 'named after the link in a destination directory');

  fs.symlinkSync('/etc', path.join(ctx, 'link-to-etc'));
  for (const source of ['link-to-etc/hostname', 'link-to-etc']) {
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM scratch\nCOPY ${source} /h\n`);
    const escape = p.build([]);
    t.equal(escape.status, 1, `COPY ${source} does not reach the host's /etc`);
    t.match(escape.stderr, new RegExp(`Dockerfile:2: COPY: "${source}": not found in the build context`));
  }
});
