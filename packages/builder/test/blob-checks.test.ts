// The store keeps which blobs it found intact (<store>/blob-checks.json, by the identity of the
// file: device, inode, size, ctime), so that a rebuild does not read every cached layer again to
// hash it: strace shows a no-change rebuild reading no layer blob. A blob written to since is
// hashed again, found corrupt and built anew, however recently its identity was kept.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { project, TSBUILD } from './project.js';

const STRACE = '/usr/bin/strace';

/** The layer digests of the image tagged `ref` in the store. */
function layersOf(root: string, ref: string): string[] {
  const index = JSON.parse(fs.readFileSync(path.join(root, 'layout', 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const tagged = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === ref)!;
  const blob = (digest: string) => path.join(root, 'layout', 'blobs', 'sha256', digest.slice(7));
  return (JSON.parse(fs.readFileSync(blob(tagged.digest), 'utf8')) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
}

t.test('a no-change rebuild reads no layer blob; a blob written to since is found corrupt', { skip: !fs.existsSync(STRACE) && 'strace is not installed' }, async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY big.bin /big.bin\nCOPY small.txt /small.txt\n', 'small.txt': 'small\n' });
  fs.writeFileSync(path.join(p.dir, 'ctx', 'big.bin'), Buffer.alloc(4 << 20, 'x'));
  t.equal(p.build(['-t', 'app:1']).status, 0);
  // The layers this build wrote are kept at once, the last one too (written a moment before the
  // build ended): its identity was taken after its bytes were synced and renamed into place.
  const layers = layersOf(p.root, 'app:1');
  t.equal(layers.length, 2);
  const kept = JSON.parse(fs.readFileSync(path.join(p.root, 'blob-checks.json'), 'utf8')) as { blobs: Record<string, string> };
  for (const layer of layers) t.ok(kept.blobs[layer], `layer ${layer.slice(7, 19)} is kept as intact`);

  const trace = path.join(p.dir, 'trace');
  const r = spawnSync(STRACE, ['-f', '-qq', '-y', '--seccomp-bpf', '-e', 'trace=read,pread64', '-o', trace, TSBUILD, 'build', '--root', p.root, '-t', 'app:1', path.join(p.dir, 'ctx')],
    { encoding: 'utf8', env: { ...process.env, TMPDIR: p.tmpdir } });
  t.equal(r.status, 0, r.stderr);
  const log = fs.readFileSync(trace, 'utf8');
  t.ok(/read\(\d+<\/[^>]*\.json>/.test(log), 'the trace shows what was read, by path');
  for (const layer of layers) t.notMatch(log, `blobs/sha256/${layer.slice(7)}>`, `layer ${layer.slice(7, 19)} was not read`);

  // Overwritten in place, the same size: only the ctime tells, and it does at once.
  const blob = path.join(p.root, 'layout', 'blobs', 'sha256', layers[0]!.slice(7));
  const fd = fs.openSync(blob, 'r+');
  fs.writeSync(fd, Buffer.from('corrupt'), 0, 7, 100);
  fs.closeSync(fd);
  const again = p.build(['-t', 'app:1']);
  t.equal(again.status, 0, again.stderr);
  t.match(again.stderr, `blob ${layers[0]} is corrupt`, 'the corrupt blob is found');
  t.same(layersOf(p.root, 'app:1'), layers, 'and built again, the same layer');
});
