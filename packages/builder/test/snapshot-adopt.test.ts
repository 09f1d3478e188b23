// A COPY's staging tree and a RUN's overlay upper directory are kept as their layers' snapshots
// (nothing is extracted afterwards), each made what extracting its layer gives: every snapshot a
// build keeps is compared, entry by entry (type, mode, owner, mtime, size, link target, device,
// xattrs, bytes), with a fresh extraction of its layer's blob onto the snapshots below it.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
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

/**
 * Every entry below `root`, as a line of what extraction sets, sorted; bytes of files by digest.
 * Without `links`, a file's link count is left out: a file a COPY linked from another snapshot
 * has more names than its extraction.
 */
function describe(root: string, links: boolean): string[] {
  const lines: string[] = [];
  const visit = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const child = path.join(rel, name);
      const full = path.join(root, child);
      const st = fs.lstatSync(full);
      const whiteout = st.isCharacterDevice() && st.rdev === 0;
      const xattrs = listXattrs(full).sort().map((x) => `${x}=${getXattr(full, x)?.toString('hex')}`).join(',');
      // A whiteout's times are not the layer's: extraction makes it when it meets it.
      const what = [child, st.mode.toString(8), st.uid, st.gid, whiteout ? '-' : st.mtimeMs, links ? st.nlink : '-', st.rdev, xattrs];
      if (st.isFile()) what.push(st.size, crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex'));
      if (st.isSymbolicLink()) what.push(fs.readlinkSync(full));
      lines.push(what.join(' '));
      if (st.isDirectory()) visit(child);
    }
  };
  visit('');
  return lines;
}

/** Each layer of the store's last image: its kept snapshot compared with a fresh extraction of its blob on the snapshots below. */
async function compareWithExtraction(t: Test, root: string, links: boolean): Promise<void> {
  const layers = imageLayers(root);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-adopt-'));
  t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const below: string[] = [];
  let chain = '';
  for (const [i, layer] of layers.entries()) {
    chain = i === 0 ? layer.diffId : `sha256:${crypto.createHash('sha256').update(`${chain} ${layer.diffId}`).digest('hex')}`;
    const kept = path.join(root, 'snapshots', chain.slice(7), 'fs');
    const fresh = path.join(scratch, String(i));
    fs.mkdirSync(fresh, { mode: 0o755 });
    await extractLayerSnapshot(fs.createReadStream(path.join(root, 'layout', 'blobs', 'sha256', layer.digest.slice(7))), fresh, below, layer.diffId);
    t.same(describe(kept, links), describe(fresh, links), `layer ${i}: the kept tree is what extracting the layer makes`);
    t.equal(fs.statSync(kept).mode & 0o7777, 0o755, `layer ${i}: its root is 0755`);
    below.unshift(kept);
  }
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
  await compareWithExtraction(t, p.root, true);
  const rootfs = p.unpack('adopt:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'seen'), 'utf8'), 'kept\nmore\nnew\n', 'the last RUN saw the kept snapshots');
  t.equal(fs.readFileSync(path.join(rootfs, 'listed'), 'utf8'), 'keep-link\nkeep.txt\nsub\nswap\n');
});

/** The kept snapshots' copies of `rel` (a path in the image). */
function inSnapshots(root: string, rel: string): string[] {
  const dir = path.join(root, 'snapshots');
  return fs.readdirSync(dir).map((id) => path.join(dir, id, 'fs', rel)).filter((file) => fs.existsSync(file));
}

t.test('COPY --from a stage links the files a copy would make the same, copies the others; each layer is still its extraction', async (t) => {
  const p = busyboxProject(t, ['FROM base AS files', 'COPY tree/ /srv/', 'FROM base', 'COPY --from=files /srv /linked',
    'COPY --from=files --chown=5:6 /srv /owned', 'COPY --from=files /srv/keep.txt /srv/alias /twice/', 'RUN cat /linked/keep.txt /owned/sub/deep/file > /seen'],
  { 'tree/keep.txt': 'kept\n', 'tree/sub/deep/file': 'deep\n' });
  fs.utimesSync(path.join(p.dir, 'ctx', 'tree/keep.txt'), new Date('2021-05-06T07:08:09.345Z'), new Date('2021-05-06T07:08:09.678Z'));
  fs.symlinkSync('keep.txt', path.join(p.dir, 'ctx', 'tree/alias'));
  const r = p.build(['-t', 'link:1'], { TSBUILD_DEBUG: 'snapshots', TSBUILD_SNAPSHOTTER: 'overlayfs' });
  t.equal(r.status, 0, r.stderr);
  const [source, ...others] = inSnapshots(p.root, 'srv/keep.txt');
  t.equal(others.length, 0, 'one snapshot holds the stage\'s file');
  const sourceStat = fs.statSync(source!);
  t.equal(sourceStat.mtimeMs, Date.parse('2021-05-06T07:08:09Z'), 'the stage\'s file has the whole-second time its layer records');
  const [linked] = inSnapshots(p.root, 'linked/keep.txt');
  t.equal(fs.statSync(linked!).ino, sourceStat.ino, 'a file copied as it is is a link to the stage\'s');
  const [owned] = inSnapshots(p.root, 'owned/keep.txt');
  const ownedStat = fs.statSync(owned!);
  t.not(ownedStat.ino, sourceStat.ino, 'a file given another owner is a copy');
  t.same([ownedStat.uid, ownedStat.gid, ownedStat.nlink], [5, 6, 1]);
  t.same([sourceStat.uid, sourceStat.gid, sourceStat.mode & 0o7777], [0, 0, 0o644], 'the stage\'s file is as it was');
  await compareWithExtraction(t, p.root, false);
  const layer = spawnSync('tar', ['-tvf', path.join(p.root, 'layout', 'blobs', 'sha256', imageLayers(p.root)[4]!.digest.slice(7))], { encoding: 'utf8' });
  t.match(layer.stdout, /^-.* twice\/alias$/m, 'the same file copied twice (once through a symlink) is two files in the layer, not a hard link');
  t.notMatch(layer.stdout, /^h/m);
  const rootfs = p.unpack('link:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'seen'), 'utf8'), 'kept\ndeep\n', 'the RUN saw both copies');
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
