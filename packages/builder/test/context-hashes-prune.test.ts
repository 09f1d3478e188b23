// The context's digest table (<store>/context-hashes/<id>.json) follows the context: a build
// forgets the files that are gone from it, and keeps those still there, whether it read them or not.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { project } from './project.js';

/** The context paths the store's one digest table holds. */
function tablePaths(root: string): string[] {
  const dir = path.join(root, 'context-hashes');
  const tables = fs.readdirSync(dir).filter((name) => name.endsWith('.json'));
  if (tables.length !== 1) throw new Error(`expected one digest table in ${dir}, found ${tables.join(', ')}`);
  const table = JSON.parse(fs.readFileSync(path.join(dir, tables[0]!), 'utf8')) as { files: Record<string, unknown> };
  return Object.keys(table.files).sort();
}

t.test('a build prunes the digests of files gone from the context', async (t) => {
  const p = project(t, {
    Dockerfile: 'FROM scratch\nCOPY . /app/\n',
    'keep.txt': 'kept\n',
    'unread.txt': 'not read by the second build\n',
    'sub/gone.txt': 'removed before the second build\n',
    'sub/replaced': 'a file, then a directory\n',
  });
  const ctx = path.join(p.dir, 'ctx');
  // Files changed within the last clock tick are not kept in the table (its racy rule).
  await new Promise((r) => setTimeout(r, 300));
  const first = p.build(['-t', 'prune:1']);
  t.equal(first.status, 0, first.stderr);
  t.same(tablePaths(p.root), ['Dockerfile', 'keep.txt', 'sub/gone.txt', 'sub/replaced', 'unread.txt'], 'every file read is in the table');

  fs.rmSync(path.join(ctx, 'sub', 'gone.txt'));
  fs.rmSync(path.join(ctx, 'sub', 'replaced'));
  fs.mkdirSync(path.join(ctx, 'sub', 'replaced'));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY keep.txt /app/\n');
  await new Promise((r) => setTimeout(r, 300));
  const second = p.build(['-t', 'prune:2']);
  t.equal(second.status, 0, second.stderr);
  t.same(tablePaths(p.root), ['Dockerfile', 'keep.txt', 'unread.txt'],
    'the removed file and the file now a directory are forgotten; files the build did not read stay');
});

t.test('a build whose context lost nothing leaves the table as it was', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY a.txt /\n', 'a.txt': 'a\n', 'b.txt': 'b\n' });
  await new Promise((r) => setTimeout(r, 300));
  t.equal(p.build(['-t', 'same:1']).status, 0);
  const table = fs.readdirSync(path.join(p.root, 'context-hashes')).find((name) => name.endsWith('.json'))!;
  const before = fs.statSync(path.join(p.root, 'context-hashes', table));
  t.equal(p.build(['-t', 'same:2']).status, 0);
  const after = fs.statSync(path.join(p.root, 'context-hashes', table));
  t.equal(after.ino, before.ino, 'the table was not written again');
  t.same(tablePaths(p.root), ['a.txt']);
});
