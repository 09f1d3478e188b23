// Resolving inside a tree as its "/" (engine/in-root.ts), and WORKDIR's split of a path into the
// directories an image has and those it lacks (engine/workdir.ts, which walks with it), on a real
// tree of directories, files and symlinks: absolute links and ".." stay inside, a loop, a file on
// the way and a link through a missing directory to ".." are errors naming the path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { existingPathInRoot, walkInRoot } from '../src/engine/in-root.js';
import { stageWorkdir } from '../src/engine/workdir.js';

function tree(t: { teardown(fn: () => void): void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-in-root-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/lib/file'), 'x');
  fs.symlinkSync('/usr/lib', path.join(root, 'lib')); // absolute: from the root, not the host
  fs.symlinkSync('../../../../usr', path.join(root, 'usr/lib/up')); // ".." stops at the top
  fs.symlinkSync('/etc', path.join(root, 'hostetc')); // the host has /etc; the tree does not
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  fs.symlinkSync('missing/../..', path.join(root, 'dotdot'));
  return root;
}

t.test('walkInRoot follows links inside the root and says what is missing', async (t) => {
  const root = tree(t);
  t.same(walkInRoot(root, 'lib/file'), { existing: ['usr', 'lib', 'file'], missing: [] });
  t.same(walkInRoot(root, 'usr/lib/up/lib'), { existing: ['usr', 'lib'], missing: [] });
  t.same(walkInRoot(root, 'hostetc/passwd'), { existing: [], missing: ['etc', 'passwd'] }, "the host's /etc is not followed");
  t.same(walkInRoot(root, 'lib/new/dir'), { existing: ['usr', 'lib'], missing: ['new', 'dir'] });
  t.same(walkInRoot(root, 'loop1'), { blocked: 'symlink loop', at: 'loop1' });
  t.same(walkInRoot(root, 'lib/file/below'), { blocked: 'not a directory', at: 'usr/lib/file' });
  t.same(walkInRoot(root, 'lib/file', (rel) => rel !== 'lib'), { blocked: 'hidden', at: 'lib' });
});

t.test('existingPathInRoot: the resolved path of what exists, as the kernel finds it', async (t) => {
  const root = tree(t);
  t.equal(existingPathInRoot(root, 'lib/file'), 'usr/lib/file');
  t.equal(existingPathInRoot(root, '/'), '');
  t.equal(existingPathInRoot(root, 'hostetc/passwd'), undefined);
  t.equal(existingPathInRoot(root, 'loop1'), undefined);
  t.equal(existingPathInRoot(root, 'lib/file', (rel) => rel !== 'usr/lib/file'), undefined, 'a left-out target resolves to nothing');
});

t.test('WORKDIR stages only the directories the image lacks, through its links', async (t) => {
  const root = tree(t);
  const owner = { uid: process.getuid!(), gid: process.getgid!() };
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-workdir-'));
  t.teardown(() => fs.rmSync(staging, { recursive: true, force: true }));
  t.notOk(stageWorkdir(root, staging, '/lib', owner), 'an existing directory: no layer');
  t.ok(stageWorkdir(root, staging, '/lib/app/data', owner));
  t.ok(fs.statSync(path.join(staging, 'usr/lib/app/data')).isDirectory(), 'made where the link leads, inside the image');
  t.same(fs.readdirSync(staging), ['usr']);
  t.throws(() => stageWorkdir(root, staging, '/loop1/x', owner), /^WORKDIR \/loop1\/x: too many levels of symbolic links$/);
  t.throws(() => stageWorkdir(root, staging, '/lib/file/x', owner), /^WORKDIR \/lib\/file\/x: \/usr\/lib\/file is not a directory$/);
  t.throws(() => stageWorkdir(root, staging, '/lib/file', owner), /^WORKDIR \/lib\/file: \/usr\/lib\/file is not a directory$/);
  t.throws(() => stageWorkdir(root, staging, '/dotdot/x', owner), /a symbolic link leads through a missing directory to "\.\."/);
});
