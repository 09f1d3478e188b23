// RUN on either snapshot: the copy-based one (for hosts where overlayfs cannot be mounted) must
// give the very layer the overlay gives: the same entries, whiteouts, modes, owners and digests.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { project } from './project.js';

const DOCKERFILE = [
  'FROM scratch AS base', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
  'COPY tree/ /srv/',
  'FROM base',
  // new, modified, removed (file and directory), chmod, chown, symlink, nested directories, a fifo
  'RUN echo new > /srv/new.txt && echo changed >> /srv/keep/changed.txt && rm /srv/gone.txt && rm -r /srv/gone-dir'
    + ' && chmod 0600 /srv/keep/mode.txt && chown 1000:1000 /srv/keep/owner.txt && ln -s new.txt /srv/link'
    + ' && mkdir -p /srv/a/b/c && touch /srv/a/b/c/leaf && mkfifo /srv/fifo && rm /bin/sed',
  'CMD ["/bin/sh"]', '',
].join('\n');

/** The layers of the image in `layout`, each as `tar -tv` lists it. */
function layerListings(layout: string): { digests: string[]; listings: string[] } {
  const blob = (digest: string) => path.join(layout, 'blobs/sha256', digest.slice(7));
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), 'utf8'));
  const digests = (manifest.layers as { digest: string }[]).map((l) => l.digest);
  return { digests, listings: digests.map((d) => spawnSync('tar', ['-tvzf', blob(d)], { encoding: 'utf8' }).stdout) };
}

t.test('the copy snapshot gives the layer overlayfs gives', async (t) => {
  const files = { Dockerfile: DOCKERFILE, 'tree/gone.txt': 'x\n', 'tree/gone-dir/f': 'y\n', 'tree/keep/changed.txt': 'a\n', 'tree/keep/mode.txt': 'm\n', 'tree/keep/owner.txt': 'o\n' };
  const builds = (['overlayfs', 'copy'] as const).map((kind) => {
    const p = project(t, files);
    fs.copyFileSync('/bin/busybox', path.join(p.dir, 'ctx', 'busybox'));
    const r = p.build(['-o', `type=oci,dest=${p.dir}/out`], { TSBUILD_SNAPSHOTTER: kind, SOURCE_DATE_EPOCH: '1700000000' });
    t.equal(r.status, 0, r.stderr);
    t.match(r.stderr, new RegExp(`\\(RUN snapshots: ${kind}\\)`), `the build says it used ${kind}`);
    return layerListings(path.join(p.dir, 'out'));
  });
  const [overlay, copy] = builds as [ReturnType<typeof layerListings>, ReturnType<typeof layerListings>];
  const runLayer = copy.listings[copy.listings.length - 1]!;
  for (const entry of ['srv/.wh.gone.txt', 'srv/.wh.gone-dir', 'bin/.wh.sed', 'srv/new.txt', 'srv/keep/changed.txt', 'srv/a/b/c/leaf', 'srv/fifo']) {
    t.match(runLayer, new RegExp(`${entry.replace(/\./g, '\\.')}$`, 'm'), `the copy's RUN layer has ${entry}`);
  }
  t.match(runLayer, /^-rw------- 0\/0 .* srv\/keep\/mode\.txt$/m, 'chmod is in the layer');
  t.match(runLayer, /^-rw-r--r-- 1000\/1000 .* srv\/keep\/owner\.txt$/m, 'chown is in the layer');
  t.match(runLayer, /^lrwxrwxrwx .* srv\/link -> new\.txt$/m, 'the symlink is in the layer');
  t.notMatch(runLayer, /bin\/busybox$/m, 'what the step did not touch is not in the layer');
  t.same(copy.listings, overlay.listings, 'every layer lists the same under both snapshots');
  t.same(copy.digests, overlay.digests, 'and the digests are the same');
});

t.test('an unknown snapshotter is refused', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY Dockerfile /\n' });
  const r = p.build([], { TSBUILD_SNAPSHOTTER: 'btrfs' });
  t.equal(r.status, 1);
  t.match(r.stderr, /TSBUILD_SNAPSHOTTER: unknown snapshotter "btrfs" \(auto, overlayfs, copy\)/);
});

t.test('where overlayfs cannot be mounted, auto falls back to the copy and says so', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "touch", "/made-by-run"]\nCMD ["/bin/busybox"]\n' });
  fs.copyFileSync('/bin/busybox', path.join(p.dir, 'ctx', 'busybox'));
  // The builds' scratch space on an overlay: an overlay's upper directory cannot be on one.
  for (const dir of ['lower', 'upper', 'work']) fs.mkdirSync(path.join(p.dir, dir));
  const options = `lowerdir=${p.dir}/lower,upperdir=${p.dir}/upper,workdir=${p.dir}/work`;
  t.equal(spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', options, p.tmpdir]).status, 0, 'TMPDIR is an overlay');
  t.teardown(() => { spawnSync('umount', [p.tmpdir]); });

  const forced = p.build([], { TSBUILD_SNAPSHOTTER: 'overlayfs' });
  t.equal(forced.status, 1, 'overlayfs, when asked for, fails here');
  t.match(forced.stderr, /mount .*overlay/i, 'saying the overlay would not mount');
  const auto = p.build(['-t', 'fallback:1']);
  t.equal(auto.status, 0, auto.stderr);
  t.match(auto.stderr, /\(RUN snapshots: copy\)\n$/, 'auto used the copy, and the summary says so');
  t.ok(fs.existsSync(path.join(p.unpack('fallback:1'), 'made-by-run')), 'and the step\'s file is in the image');
  t.notOk(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(`${p.tmpdir}/`), 'no mount is left below TMPDIR');
});
