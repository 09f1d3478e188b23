// OCI layout writing checked by independent tools: skopeo reads the layout and both
// archive formats, and umoci unpacks the image into a runtime bundle.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MEDIA_TYPES, type ImageConfig, type ImageManifest } from '@tsrunc/spec-schemas';
import { storeDirectoryAsLayer } from '../src/image/layer-writer.js';
import { OciLayout, REF_NAME_ANNOTATION, writeDockerArchive, writeOciArchive } from '../src/image/layout.js';
import { sha256Digest } from '../src/image/store.js';

function skopeoInspect(transport: string): { Digest: string; Architecture: string; Os: string; Layers: string[] } {
  return JSON.parse(execFileSync('skopeo', ['inspect', transport], { encoding: 'utf8' })) as { Digest: string; Architecture: string; Os: string; Layers: string[] };
}

t.test('OCI layout', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'tsbuild-layout-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const tree = join(work, 'tree');
  await mkdir(join(tree, 'bin'), { recursive: true });
  await writeFile(join(tree, 'bin/hello'), '#!/bin/sh\necho hello\n');
  await chmod(join(tree, 'bin/hello'), 0o755);
  await symlink('bin/hello', join(tree, 'hello'));

  const dir = join(work, 'layout');
  const layout = await OciLayout.open(dir, { create: true });
  const layer = await storeDirectoryAsLayer(layout.blobs, tree, 'tree', 1_700_000_000);

  /** Builds config + manifest the way the builder will, and tags them. */
  async function addImage(ref: string, cmd: string) {
    const config: ImageConfig = {
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: [cmd] },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: { mediaType: MEDIA_TYPES.config, digest: sha256Digest(configBytes), size: configBytes.length },
      layers: [layer.descriptor],
    };
    return layout.addManifest(manifest, config, ref);
  }

  const first = await addImage('v1', '/bin/true');
  const second = await addImage('latest', '/hello');
  const replaced = await addImage('v1', '/bin/hello');

  t.test('index.json and oci-layout', async (t) => {
    t.equal(await readFile(join(dir, 'oci-layout'), 'utf8'), '{"imageLayoutVersion":"1.0.0"}');
    const index = layout.readIndex();
    t.same(index.manifests.map((d) => d.annotations?.[REF_NAME_ANNOTATION]), ['latest', 'v1'], 're-tagging replaces the old entry');
    t.not(first.digest, replaced.digest);
    t.equal(layout.resolve('v1').manifestDescriptor.digest, replaced.digest);
    t.same(layout.resolve('latest').config.config?.Cmd, ['/hello']);
    t.throws(() => layout.resolve(), /2 manifests/);
    t.throws(() => layout.resolve('nope'), /no manifests tagged nope/);
    const raw = await readFile(join(dir, 'index.json'), 'utf8');
    t.notMatch(raw, /\s/, 'canonical JSON has no whitespace');
    await t.rejects(OciLayout.open(join(work, 'missing'), { create: false }), /not an OCI image layout/);
  });

  t.test('manifest must describe the config it is stored with', async (t) => {
    const config: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } };
    const manifest: ImageManifest = {
      schemaVersion: 2,
      config: { mediaType: MEDIA_TYPES.config, digest: sha256Digest(Buffer.from('{}')), size: 2 },
      layers: [],
    };
    await t.rejects(layout.addManifest(manifest, config, 'bad'), /does not match the config/);
  });

  t.test('skopeo reads the layout', async (t) => {
    const info = skopeoInspect(`oci:${dir}:latest`);
    t.equal(info.Digest, second.digest);
    t.equal(info.Architecture, 'amd64');
    t.equal(info.Os, 'linux');
    t.same(info.Layers, [layer.descriptor.digest]);
  });

  t.test('umoci unpacks the image', async (t) => {
    const bundle = join(work, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${dir}:latest`, bundle], { stdio: 'pipe' });
    t.equal(await readFile(join(bundle, 'rootfs/bin/hello'), 'utf8'), '#!/bin/sh\necho hello\n');
    t.equal(await readlink(join(bundle, 'rootfs/hello')), 'bin/hello');
    t.ok(existsSync(join(bundle, 'config.json')));
  });

  t.test('OCI archive', async (t) => {
    const archive = join(work, 'image.oci.tar');
    await writeOciArchive(dir, archive);
    t.equal(skopeoInspect(`oci-archive:${archive}:v1`).Digest, replaced.digest);
    const again = join(work, 'image2.oci.tar');
    await writeOciArchive(dir, again);
    t.ok((await readFile(archive)).equals(await readFile(again)), 'archives are reproducible');
  });

  t.test('docker archive', async (t) => {
    const archive = join(work, 'image.docker.tar');
    await writeDockerArchive(dir, 'latest', archive, 'tsbuild-test:latest');
    const info = skopeoInspect(`docker-archive:${archive}`);
    t.equal(info.Architecture, 'amd64');
    t.equal(info.Layers.length, 1);
    // A full copy makes skopeo read and digest-check every layer of the archive.
    const copy = join(work, 'copied');
    execFileSync('skopeo', ['copy', `docker-archive:${archive}`, `oci:${copy}:copied`], { stdio: 'pipe' });
    t.same(skopeoInspect(`oci:${copy}:copied`).Layers.length, 1);
  });
});
