// FROM a local directory (--build-context NAME=DIR) gives its files the owners BuildKit gives
// them: its client sends every local directory with uid and gid reset to 0 (prepareSyncedDirs'
// resetUIDAndGID), whoever owns them on the client, and keeps their modes, setuid bits included,
// and their symlinks as written.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { project } from './project.js';

const entry = (root: string, rel: string) => {
  const st = fs.lstatSync(path.join(root, rel));
  return `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}${st.isSymbolicLink() ? ` -> ${fs.readlinkSync(path.join(root, rel))}` : ''}`;
};

t.test('FROM a local directory: owners reset to root, modes and symlinks kept', async (t) => {
  const p = project(t, { Dockerfile: 'FROM tree\nCMD ["none"]\n' });
  const tree = path.join(p.dir, 'tree');
  fs.mkdirSync(path.join(tree, 'private'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'private', 'key'), 'k\n');
  fs.writeFileSync(path.join(tree, 'tool'), '#!/bin/sh\n');
  fs.symlinkSync('private/key', path.join(tree, 'link'));
  fs.chmodSync(path.join(tree, 'private'), 0o750);
  fs.chmodSync(path.join(tree, 'private', 'key'), 0o600);
  fs.chownSync(path.join(tree, 'private'), 1001, 1002);
  fs.chownSync(path.join(tree, 'private', 'key'), 1000, 1000);
  fs.chownSync(path.join(tree, 'tool'), 1000, 50);
  fs.lchownSync(path.join(tree, 'link'), 1000, 1000);
  // After the chown, which would clear it.
  fs.chmodSync(path.join(tree, 'tool'), 0o4755);

  const r = p.build(['--build-context', `tree=${tree}`, '-t', 'owners:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('owners:1');
  t.same(['private', 'private/key', 'tool', 'link'].map((rel) => entry(rootfs, rel)), [
    '750 0:0', '600 0:0', '4755 0:0', '777 0:0 -> private/key',
  ], 'owned by root, each with its mode, the symlink as written');
  t.same(['private', 'private/key', 'tool'].map((rel) => entry(tree, rel)), ['750 1001:1002', '600 1000:1000', '4755 1000:50'], 'the directory itself is untouched');
});
