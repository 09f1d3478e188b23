// COPY and ADD as BuildKit lays them onto an image, in real builds read back from inside (RUN) and
// from the unpacked image: an existing directory a copy passes through or fills keeps its owner and
// mode; a file copied to a plain destination that is a directory goes into it; an archive or a
// layer whose tar has a "." or "./" root entry is taken, the entry changing nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import tar from 'tar-stream';
import { extractLayer } from '../src/image/layer-reader.js';
import { busyboxProject } from './project.js';

const modeOf = (file: string) => {
  const st = fs.lstatSync(file);
  return `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
};

t.test('COPY into an existing directory keeps its owner and mode', async (t) => {
  const p = busyboxProject(t, [
    'FROM base',
    'RUN mkdir -p /tmp /home/alice /secret /data && chmod 1777 /tmp && chown 1000:1000 /home/alice /data && chmod 700 /home/alice /secret && chmod 2750 /data',
    'COPY f /tmp/',
    'COPY f /home/alice/',
    'COPY f /secret/',
    'COPY d/ /data/',
    'COPY f /home/alice/new/',
    'RUN stat -c "%n %a %u:%g" /tmp /home/alice /secret /data /data/sub /home/alice/new > /report',
  ], { f: 'file\n', 'd/sub/g': 'g\n' });
  fs.chmodSync(path.join(p.dir, 'ctx', 'd', 'sub'), 0o750);
  const r = p.build(['-t', 'keep:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('keep:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'report'), 'utf8'), [
    '/tmp 1777 0:0',
    '/home/alice 700 1000:1000',
    '/secret 700 0:0',
    '/data 2750 1000:1000',
    '/data/sub 750 0:0',
    '/home/alice/new 755 0:0',
    '',
  ].join('\n'), 'RUN sees /tmp 1777, alice\'s home hers, 0700 kept; a copied subdirectory has its source\'s mode, a new one 0755');
  t.equal(modeOf(path.join(rootfs, 'tmp')), '1777 0:0', 'the unpacked image has /tmp 1777 too');
  t.equal(modeOf(path.join(rootfs, 'home/alice')), '700 1000:1000', 'and alice\'s home');
  t.equal(fs.readFileSync(path.join(rootfs, 'home/alice/f'), 'utf8'), 'file\n', 'the file is in it');
});

t.test('COPY of a file onto an existing directory copies into it', async (t) => {
  const p = busyboxProject(t, [
    'FROM base',
    'WORKDIR /src',
    'COPY hello.c .',
    'RUN mkdir /opt && ln -s /opt /optlink',
    'COPY f /opt',
    'COPY g /optlink',
    'COPY f /renamed',
    'COPY <<EOF /opt',
    'from a heredoc',
    'EOF',
    'RUN cat hello.c > /report && ls /opt >> /report && test -L /optlink && test -f /renamed && echo ok >> /report',
  ], { 'hello.c': 'int main;\n', f: 'f\n', g: 'g\n' });
  const r = p.build(['-t', 'into:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('into:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'report'), 'utf8'), 'int main;\nEOF\nf\ng\nok\n',
    'WORKDIR then COPY x . lands in the directory; a file onto /opt (and through a link to it) goes into /opt; a missing destination is the new name');
  t.ok(fs.lstatSync(path.join(rootfs, 'optlink')).isSymbolicLink(), 'the symlink to the directory stays a symlink');
});

/** A gzip tar made by the system's tar from a directory with `-C dir .`: it starts with a "./" entry. */
function tarOfDirectory(t: { teardown(fn: () => void): void }, files: Record<string, string>, rootMode: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-tar-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'tree'));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'tree', name)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'tree', name), content);
  }
  fs.chmodSync(path.join(dir, 'tree'), rootMode);
  const archive = path.join(dir, 'x.tgz');
  const r = spawnSync('tar', ['-C', path.join(dir, 'tree'), '-czf', archive, '.'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  return archive;
}

t.test('ADD of an archive with a "./" root entry extracts it; the root entry changes nothing', async (t) => {
  const archive = tarOfDirectory(t, { 'a.txt': 'a\n', 'sub/b.txt': 'b\n' }, 0o700);
  const listing = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' }).stdout.split('\n');
  t.equal(listing[0], './', 'the archive starts with the root entry');
  const p = busyboxProject(t, [
    'FROM base',
    'RUN mkdir -p /shared && chmod 1777 /shared',
    'ADD x.tgz /shared/',
    'ADD x.tgz /fresh/',
    'RUN stat -c "%n %a" /shared /fresh > /report && cat /shared/sub/b.txt /fresh/a.txt >> /report',
  ]);
  fs.copyFileSync(archive, path.join(p.dir, 'ctx', 'x.tgz'));
  const r = p.build(['-t', 'add-root:1']);
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stderr, /empty path/);
  const rootfs = p.unpack('add-root:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'report'), 'utf8'), '/shared 1777\n/fresh 755\nb\na\n',
    'the files are extracted; the destination keeps its mode (existing) or is 0755 (new), not the root entry\'s 0700');
});

t.test('a layer with a "." root entry is applied; the entry changes nothing', async (t) => {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-root-entry-'));
  t.teardown(() => fs.rmSync(target, { recursive: true, force: true }));
  fs.chmodSync(target, 0o755);
  const pack = tar.pack();
  pack.entry({ name: '.', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 });
  pack.entry({ name: './', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 });
  pack.entry({ name: './etc/', type: 'directory', mode: 0o755 });
  pack.entry({ name: './etc/hostname', mode: 0o644 }, 'box\n');
  pack.finalize();
  await extractLayer(Readable.from(pack), target);
  t.equal(modeOf(target), '755 0:0', 'the root keeps its own mode and owner');
  t.equal(fs.readFileSync(path.join(target, 'etc/hostname'), 'utf8'), 'box\n', 'the rest of the layer is applied');

  const empty = tar.pack();
  empty.entry({ name: '', type: 'file', mode: 0o644 }, 'x');
  empty.finalize();
  await t.rejects(extractLayer(Readable.from(empty), target), /layer entry : empty path/, 'an entry with no name at all is still refused');
});
