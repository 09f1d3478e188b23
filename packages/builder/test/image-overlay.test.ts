// writeDiffLayer on a real overlayfs upper dir: deletions become .wh. files, a directory
// replaced after deletion becomes opaque, and applying the diff onto the lower layer
// reproduces what the merged mount showed.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { extractLayer } from '../src/image/layer-reader.js';
import { writeDiffLayer, writeLayer } from '../src/image/layer-writer.js';

async function snapshot(root: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, rel))).sort()) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const path = join(root, childRel);
    if ((await lstat(path)).isDirectory()) {
      out[`${childRel}/`] = 'dir';
      Object.assign(out, await snapshot(root, childRel));
    } else out[childRel] = await readFile(path, 'utf8');
  }
  return out;
}

async function tarNames(file: string): Promise<string[]> {
  const extract = tar.extract();
  createReadStream(file).pipe(extract);
  const names: string[] = [];
  for await (const entry of extract) {
    names.push(entry.header.name);
    entry.resume();
  }
  return names;
}

t.test('overlay upper dir to diff layer', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'tsbuild-overlay-'));
  const [lower, upper, ovlWork, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(work, d)) as [string, string, string, string];
  let mounted = false;
  t.teardown(async () => {
    if (mounted) execFileSync('umount', [merged]);
    await rm(work, { recursive: true, force: true });
  });
  for (const d of [lower, upper, ovlWork, merged]) await mkdir(d);
  await writeFile(join(lower, 'keep'), 'keep\n');
  await writeFile(join(lower, 'gone'), 'gone\n');
  await mkdir(join(lower, 'dir/sub'), { recursive: true });
  await writeFile(join(lower, 'dir/sub/f'), 'f\n');
  await mkdir(join(lower, 'replaced'));
  await writeFile(join(lower, 'replaced/old'), 'old\n');

  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${ovlWork}`, merged]);
  mounted = true;
  await rm(join(merged, 'gone'));
  await rm(join(merged, 'dir'), { recursive: true });
  await rm(join(merged, 'replaced'), { recursive: true });
  await mkdir(join(merged, 'replaced'));
  await writeFile(join(merged, 'replaced/new'), 'new\n');
  await writeFile(join(merged, 'added'), 'added\n');
  const expected = await snapshot(merged);
  execFileSync('umount', [merged]);
  mounted = false;

  const diffTar = join(work, 'diff.tar');
  await writeDiffLayer({ upper, out: createWriteStream(diffTar) });
  const names = await tarNames(diffTar);
  t.ok(names.includes('.wh.gone'), 'deleted file becomes a whiteout');
  t.ok(names.includes('.wh.dir'), 'deleted directory becomes a whiteout');
  t.ok(names.indexOf('replaced/.wh..wh..opq') === names.indexOf('replaced/') + 1, 'opaque marker directly follows its directory');
  t.ok(names.includes('replaced/new') && names.includes('added'));
  t.notOk(names.includes('keep'), 'unchanged lower files are not in the diff');

  const lowerTar = join(work, 'lower.tar');
  await writeLayer({ root: lower, out: createWriteStream(lowerTar) });
  const rootfs = join(work, 'rootfs');
  await mkdir(rootfs);
  await extractLayer(createReadStream(lowerTar), rootfs);
  await extractLayer(createReadStream(diffTar), rootfs);
  t.same(await snapshot(rootfs), expected, 'lower + diff equals the merged view');
});
