// zstd-compressed layers and archives: a base image that skopeo recompressed with zstd, used by
// FROM and COPY --from and unpacked, and ADD of a .tar.zst, all through Debian's zstd.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { project } from './project.js';

t.test('a base image with zstd layers', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY hello.txt /hello.txt\nCMD ["none"]\n', 'hello.txt': 'from a zstd layer\n' });
  const gzipLayout = path.join(p.dir, 'gzip');
  const zstdLayout = path.join(p.dir, 'zstd');
  t.equal(p.build(['-o', `type=oci,dest=${gzipLayout}`, '-t', 'base:1']).status, 0, 'the base image is built');
  const copy = spawnSync('skopeo', ['copy', '--dest-compress-format', 'zstd', `oci:${gzipLayout}:1`, `oci:${zstdLayout}:base`], { encoding: 'utf8' });
  t.equal(copy.status, 0, `skopeo recompresses it with zstd: ${copy.stderr}`);
  const blob = (digest: string) => path.join(zstdLayout, 'blobs/sha256', digest.slice(7));
  const index = JSON.parse(fs.readFileSync(path.join(zstdLayout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), 'utf8'));
  t.equal(manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd', 'its layer is zstd');

  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), [
    `FROM oci-layout://${zstdLayout}:base AS base`,
    'FROM scratch',
    'COPY --from=base /hello.txt /copied.txt',
    'CMD ["none"]',
    '',
  ].join('\n'));
  const child = p.build(['-t', 'child:1']);
  t.equal(child.status, 0, child.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('child:1'), 'copied.txt'), 'utf8'), 'from a zstd layer\n', 'COPY --from reads the zstd layer');

  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), `FROM oci-layout://${zstdLayout}:base\nLABEL on=zstd\n`);
  t.equal(p.build(['-t', 'relabelled:1']).status, 0, 'FROM a zstd image');
  t.equal(fs.readFileSync(path.join(p.unpack('relabelled:1'), 'hello.txt'), 'utf8'), 'from a zstd layer\n', 'tsbuild unpack extracts its layer');
});

t.test('ADD of a .tar.zst extracts it', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nADD files.tar.zst /unpacked/\nCMD ["none"]\n', 'inside/a.txt': 'a\n' });
  const archive = path.join(p.dir, 'ctx', 'files.tar.zst');
  t.equal(spawnSync('tar', ['--zstd', '-cf', archive, '-C', path.join(p.dir, 'ctx', 'inside'), 'a.txt']).status, 0, 'tar --zstd made the archive');
  const r = p.build(['-t', 'addzst:1']);
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('addzst:1'), 'unpacked/a.txt'), 'utf8'), 'a\n');

  fs.writeFileSync(archive, Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from('not really zstd')]));
  const broken = p.build(['-t', 'addzst:2']);
  t.equal(broken.status, 1, 'a corrupt archive fails the build');
  t.match(broken.stderr, /zstd/, 'naming zstd');
});

t.test('-o ...,compression=zstd|gzip|uncompressed writes layers so, with the same diff_ids', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY hello.txt /hello.txt\nCMD ["none"]\n', 'hello.txt': 'compressed with zstd\n' });
  const zstdLayout = path.join(p.dir, 'zstd');
  const gzipLayout = path.join(p.dir, 'gzip');
  const r = p.build(['-t', 'z:1', '-o', `type=oci,dest=${zstdLayout},compression=zstd,compression-level=9`, '-o', `type=oci,dest=${gzipLayout}`]);
  t.equal(r.status, 0, r.stderr);
  const read = (layout: string) => {
    const blob = (digest: string) => path.join(layout, 'blobs/sha256', digest.slice(7));
    const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8'));
    const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest), 'utf8'));
    return { manifest, blob };
  };
  const zstd = read(zstdLayout);
  const gzip = read(gzipLayout);
  t.equal(zstd.manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd', 'the layer is zstd');
  t.equal(gzip.manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip', 'the other output keeps gzip');
  t.equal(zstd.manifest.config.digest, gzip.manifest.config.digest, 'the same config: the same diff_ids');
  const listing = spawnSync('sh', ['-c', `zstd -dc ${zstd.blob(zstd.manifest.layers[0].digest)} | tar -tf -`], { encoding: 'utf8' });
  t.equal(listing.stdout, 'hello.txt\n', 'zstd -dc | tar lists the layer');
  const inspect = spawnSync('skopeo', ['inspect', `oci:${zstdLayout}:1`], { encoding: 'utf8' });
  t.equal(inspect.status, 0, `skopeo inspects it: ${inspect.stderr}`);

  const plainLayout = path.join(p.dir, 'plain');
  t.equal(p.build(['-t', 'z:1', '-o', `type=oci,dest=${plainLayout},compression=uncompressed`]).status, 0, 'compression=uncompressed');
  const plain = read(plainLayout);
  t.equal(plain.manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar', 'the layer as the store keeps it: a tar');
  const config = JSON.parse(fs.readFileSync(plain.blob(plain.manifest.config.digest), 'utf8'));
  t.same(plain.manifest.layers.map((l: { digest: string }) => l.digest), config.rootfs.diff_ids, 'its digest is its diff_id');
  const level = p.build(['-o', `type=oci,dest=${plainLayout},compression=gzip,compression-level=12`]);
  t.equal(level.status, 1, 'a gzip level above 9 is refused');
  t.match(level.stderr, /compression-level must be 1 to 9 for gzip/);

  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), `FROM oci-layout://${zstdLayout}:1\nLABEL again=yes\n`);
  t.equal(p.build(['-t', 'z:2']).status, 0, 'and builds on it');
  t.equal(fs.readFileSync(path.join(p.unpack('z:2'), 'hello.txt'), 'utf8'), 'compressed with zstd\n');

  const unknown = p.build(['-o', `type=oci,dest=${zstdLayout},oci-artifact=true`]);
  t.equal(unknown.status, 1, 'an output option tsbuild does not know is refused');
  t.match(unknown.stderr, /unknown option "oci-artifact"/);
});
