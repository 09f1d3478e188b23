// The store's layer snapshots: RUN, WORKDIR, COPY --from and --chown=<name> read an image through
// an overlay of its layers, each in <store>/snapshots: kept from the tree the build made it from,
// or else extracted once. The layers built on them must be the ones the flattened extraction (the
// copy snapshotter) gives, whether the snapshots are made by the build (cold) or already there
// (warm); a rebuild extracts nothing.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { busyboxProject, count } from './project.js';

const STEPS = [
  'COPY passwd group /etc/',
  'COPY tree/ /srv/',
  // a removed file and directory (whiteouts), a directory replaced (opaque), a hard link to a lower file
  'RUN rm /srv/gone.txt && rm -r /srv/gone-dir && rm -r /srv/swap && mkdir /srv/swap && echo new > /srv/swap/only && ln /srv/keep.txt /srv/keep-link',
  // what the step sees on the stacked layers, written into the image
  'RUN ls -a /srv /srv/swap > /seen && cat /srv/keep-link >> /seen',
  'WORKDIR /made/here',
  'FROM base AS final',
  'COPY --from=base --chown=alice /srv/ /copied/',
  'COPY --chown=alice:staff passwd /owned',
  'RUN stat -c "%u %g %n" /copied/keep.txt /owned > /owners',
];
const FILES = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\nalice:x:1500:1501::/home/alice:/bin/sh\n',
  group: 'root:x:0:\nstaff:x:1600:\n',
  'tree/keep.txt': 'kept\n',
  'tree/gone.txt': 'x\n',
  'tree/gone-dir/f': 'y\n',
  'tree/swap/old': 'old\n',
};
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };
const DEBUG = { TSBUILD_DEBUG: 'snapshots' };

/** The layer digests of the image in the OCI layout `layout`. */
function layerDigests(layout: string): string[] {
  const blob = (digest: string) => path.join(layout, 'blobs/sha256', digest.slice(7));
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), 'utf8'));
  return (manifest.layers as { digest: string }[]).map((l) => l.digest);
}

const extractions = (stderr: string) => stderr.split('\n').filter((l) => / debug: (extracted layer|flattened [1-9])/.test(l)).length;

t.test('cold and warm snapshots give the layers the flattened extraction gives', async (t) => {
  const p = busyboxProject(t, STEPS, FILES);
  const build = (out: string, env: Record<string, string>) => {
    const r = p.build(['--no-cache', '-t', 'snap:test', '-o', `type=oci,dest=${path.join(p.dir, out)}`], { ...EPOCH, ...DEBUG, ...env });
    t.equal(r.status, 0, r.stderr);
    return { digests: layerDigests(path.join(p.dir, out)), stderr: r.stderr };
  };
  const cold = build('cold', { TSBUILD_SNAPSHOTTER: 'overlayfs' });
  t.equal(extractions(cold.stderr), 0, 'the cold build extracts nothing: it keeps the trees it made its layers from');
  t.equal(cold.stderr.split('\n').filter((l) => / debug: kept the tree of layer /.test(l)).length, 10, 'as snapshots, one per layer');
  t.match(cold.stderr, /\(RUN snapshots: overlayfs\)/);
  const warm = build('warm', { TSBUILD_SNAPSHOTTER: 'overlayfs' });
  t.equal(extractions(warm.stderr), 0, 'the warm build extracts nothing: every layer it builds is already a snapshot');
  const flat = build('flat', { TSBUILD_SNAPSHOTTER: 'copy' });
  t.match(flat.stderr, /\(RUN snapshots: copy\)/);
  t.equal(cold.digests.length, 10, 'every step that changes the filesystem has its layer');
  t.same(warm.digests, cold.digests, 'warm snapshots give the same layer digests as cold ones');
  // Both snapshotters agree on every layer but the step that replaces a directory and links a file:
  // the copy's differ writes whiteouts of the old entries and a second file where overlayfs writes
  // an opaque directory and a hard link (so it did before snapshots: the run-snapshot suite).
  const replacing = 4;
  t.notSame(flat.digests[replacing], cold.digests[replacing], 'the step the snapshotters write differently is the one expected');
  t.same(flat.digests.filter((_, i) => i !== replacing), cold.digests.filter((_, i) => i !== replacing),
    'every other layer is the one the flattened extraction of the copy snapshotter gives');

  const rootfs = p.unpack('snap:test');
  t.equal(fs.readFileSync(path.join(rootfs, 'seen'), 'utf8'), '/srv:\n.\n..\nkeep-link\nkeep.txt\nswap\n\n/srv/swap:\n.\n..\nonly\nkept\n',
    'a RUN on stacked layers sees removals and a replaced directory as the layers say');
  t.equal(fs.readFileSync(path.join(rootfs, 'owners'), 'utf8'), '1500 1500 /copied/keep.txt\n1500 1600 /owned\n',
    '--chown names are looked up in the snapshot\'s passwd and group');
  t.ok(fs.statSync(path.join(rootfs, 'made/here')).isDirectory(), 'WORKDIR made its directory');
  t.notOk(fs.existsSync(path.join(rootfs, 'srv/gone.txt')), 'a removed file stays removed in the unpacked image');
});

t.test('a rebuild with nothing changed extracts no layer, --chown=<name> and COPY --from included', async (t) => {
  const p = busyboxProject(t, STEPS, FILES);
  const first = p.build([], DEBUG);
  t.equal(first.status, 0, first.stderr);
  const again = p.build([], DEBUG);
  t.equal(again.status, 0, again.stderr);
  t.equal(count(again.stderr, 'CACHED'), STEPS.length - 1 + 2, 'every step is cached');
  t.equal(extractions(again.stderr), 0, 'no layer is extracted, nor an image flattened');
  const names = fs.readdirSync(path.join(p.root, 'snapshots'));
  t.notOk(names.some((n) => n.startsWith('.tmp-')), 'no extraction is left half-done');
  t.ok(names.every((n) => fs.statSync(path.join(p.root, 'snapshots', n, 'fs')).isDirectory()), 'each snapshot is complete');
});
