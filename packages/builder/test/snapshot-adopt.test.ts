// A COPY's staging tree and a RUN's overlay upper directory are kept as their layers' snapshots
// (nothing is extracted afterwards), each made what extracting its layer gives: every snapshot a
// build keeps is compared, entry by entry (type, mode, owner, mtime, size, link target, device,
// xattrs, bytes), with a fresh extraction of its layer's blob onto the snapshots below it.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { extractLayerSnapshot } from '../src/image/layer-reader.js';
import { getXattr, listXattrs } from '../src/image/xattr.js';
import { busyboxProject } from './project.js';

const STEPS = [
  'COPY tree/ /srv/',
  'COPY --chmod=751 tree/keep.txt /opt/tool',
  // a lower file changed (copied up: overlayfs marks it), one removed (whiteout), a directory
  // replaced (opaque), a hard link, new directories; then a step on all of them
  'RUN echo more >> /srv/keep.txt && rm /srv/gone.txt && rm -r /srv/swap && mkdir /srv/swap && echo new > /srv/swap/only && ln /srv/keep.txt /srv/keep-link && mkdir -p /made/deep && ln -s ../srv /made/link',
  'RUN cat /srv/keep-link /srv/swap/only > /seen && ls /srv > /listed',
];
const FILES = { 'tree/keep.txt': 'kept\n', 'tree/gone.txt': 'x\n', 'tree/swap/old': 'old\n', 'tree/sub/deep/file': 'deep\n' };

/** The image's layers (bottom first): blob digest and diff_id, from the store's OCI layout. */
function imageLayers(root: string): { digest: string; diffId: string }[] {
  const blob = (digest: string) => path.join(root, 'layout', 'blobs', 'sha256', digest.slice(7));
  const index = JSON.parse(fs.readFileSync(path.join(root, 'layout', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[index.manifests.length - 1]!.digest), 'utf8'));
  const config = JSON.parse(fs.readFileSync(blob(manifest.config.digest), 'utf8'));
  return (manifest.layers as { digest: string }[]).map((l, i) => ({ digest: l.digest, diffId: config.rootfs.diff_ids[i] as string }));
}

/** Every entry below `root`, as a line of what extraction sets, sorted; bytes of files by digest. */
function describe(root: string): string[] {
  const lines: string[] = [];
  const visit = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const child = path.join(rel, name);
      const full = path.join(root, child);
      const st = fs.lstatSync(full);
      const whiteout = st.isCharacterDevice() && st.rdev === 0;
      const xattrs = listXattrs(full).sort().map((x) => `${x}=${getXattr(full, x)?.toString('hex')}`).join(',');
      // A whiteout's times are not the layer's: extraction makes it when it meets it.
      const what = [child, st.mode.toString(8), st.uid, st.gid, whiteout ? '-' : st.mtimeMs, st.nlink, st.rdev, xattrs];
      if (st.isFile()) what.push(st.size, crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex'));
      if (st.isSymbolicLink()) what.push(fs.readlinkSync(full));
      lines.push(what.join(' '));
      if (st.isDirectory()) visit(child);
    }
  };
  visit('');
  return lines;
}

t.test('a build keeps the trees its layers were made from as their snapshots, each as its extraction', async (t) => {
  const p = busyboxProject(t, STEPS, FILES);
  const ctx = path.join(p.dir, 'ctx');
  // Times of their own, a fraction of a second among them: the layer records whole seconds.
  fs.utimesSync(path.join(ctx, 'tree/keep.txt'), new Date('2021-05-06T07:08:09.345Z'), new Date('2021-05-06T07:08:09.678Z'));
  fs.utimesSync(path.join(ctx, 'tree/sub/deep'), 1_600_000_000.25, 1_600_000_000.75);
  const r = p.build(['-t', 'adopt:1'], { TSBUILD_DEBUG: 'snapshots', TSBUILD_SNAPSHOTTER: 'overlayfs' });
  t.equal(r.status, 0, r.stderr);
  const layers = imageLayers(p.root);
  t.equal(layers.length, 6, 'a layer for each step of the base and of the Dockerfile');
  t.notMatch(r.stderr, /debug: extracted layer/, 'no layer was extracted: each was built here');
  t.equal(r.stderr.split('\n').filter((l) => /debug: kept the tree of layer/.test(l)).length, layers.length, 'each tree was kept');

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-adopt-'));
  t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const below: string[] = [];
  let chain = '';
  for (const [i, layer] of layers.entries()) {
    chain = i === 0 ? layer.diffId : `sha256:${crypto.createHash('sha256').update(`${chain} ${layer.diffId}`).digest('hex')}`;
    const kept = path.join(p.root, 'snapshots', chain.slice(7), 'fs');
    const fresh = path.join(scratch, String(i));
    fs.mkdirSync(fresh, { mode: 0o755 });
    await extractLayerSnapshot(fs.createReadStream(path.join(p.root, 'layout', 'blobs', 'sha256', layer.digest.slice(7))), fresh, below, layer.diffId);
    t.same(describe(kept), describe(fresh), `layer ${i}: the kept tree is what extracting the layer makes`);
    t.equal(fs.statSync(kept).mode & 0o7777, 0o755, `layer ${i}: its root is 0755`);
    below.unshift(kept);
  }
  const rootfs = p.unpack('adopt:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'seen'), 'utf8'), 'kept\nmore\nnew\n', 'the last RUN saw the kept snapshots');
  t.equal(fs.readFileSync(path.join(rootfs, 'listed'), 'utf8'), 'keep-link\nkeep.txt\nsub\nswap\n');
});

t.test('a tree holding a name its layer records as a whiteout is not kept, and the build is right', async (t) => {
  const p = busyboxProject(t, ['COPY tree/ /srv/', 'RUN test ! -e /srv/.wh.hidden && cat /srv/plain > /seen'], { 'tree/.wh.hidden': 'a file, in the context\n', 'tree/plain': 'p\n' });
  const r = p.build(['-t', 'wh:1'], { TSBUILD_DEBUG: 'snapshots', TSBUILD_SNAPSHOTTER: 'overlayfs' });
  t.equal(r.status, 0, `the RUN saw the layer as extracted, no .wh. file in it: ${r.stderr}`);
  t.match(r.stderr, /debug: extracted layer/, 'the COPY layer was extracted instead');
  t.same(fs.readdirSync(p.tmpdir), [], 'no tree is left behind');
});

t.test('a tree on another filesystem than the store is not kept: its layer is extracted, and nothing is left', async (t) => {
  const p = busyboxProject(t, ['COPY tree/ /srv/', 'RUN cat /srv/plain > /seen'], { 'tree/plain': 'p\n' });
  const tmpfs = path.join(p.dir, 'tmpfs');
  fs.mkdirSync(tmpfs);
  const mount = spawnSync('mount', ['-t', 'tmpfs', 'tsbuild-test', tmpfs], { encoding: 'utf8' });
  t.equal(mount.status, 0, mount.stderr);
  t.teardown(() => spawnSync('umount', [tmpfs]));
  const r = p.build(['-t', 'tmpfs:1'], { TMPDIR: tmpfs, TSBUILD_DEBUG: 'snapshots', TSBUILD_SNAPSHOTTER: 'overlayfs' });
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stderr, /debug: kept the tree of layer/, 'no tree was kept');
  t.match(r.stderr, /debug: extracted layer/, 'the layers were extracted instead');
  t.same(fs.readdirSync(tmpfs), [], 'no tree is left on the other filesystem');
});
