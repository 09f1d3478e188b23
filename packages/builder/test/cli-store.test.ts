// The store commands as people type them: images, tag, rmi, inspect, history, prune; and a
// mistyped command named as such.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { humanSize } from '../src/cli/format.js';
import { busyboxProject, project, TSBUILD } from './project.js';

function tsbuild(args: string[]) {
  const r = spawnSync(TSBUILD, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Manifest { config: { digest: string; size: number }; layers: { digest: string; size: number }[] }

/** The manifest tagged `ref`, read from the store's layout as the OCI spec lays it out. */
function manifestOf(root: string, ref: string): { digest: string; manifest: Manifest } {
  const layout = path.join(root, 'layout');
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === ref);
  if (!entry) throw new Error(`${ref} is not tagged`);
  const blob = (digest: string) => path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
  return { digest: entry.digest, manifest: JSON.parse(fs.readFileSync(blob(entry.digest), 'utf8')) as Manifest };
}

const DOCKERFILE = 'FROM scratch\nENV GREETING=hello\nCOPY a.txt /a.txt\nLABEL team=builders\nCOPY b.txt /b.txt\nCMD ["/bin/true"]\n';

t.test('images lists each tag with its config id and the size of config and layers', async (t) => {
  const p = project(t, { Dockerfile: DOCKERFILE, 'a.txt': 'a'.repeat(5000), 'b.txt': 'b' });
  t.equal(p.build(['-t', 'app:1']).status, 0);
  const { manifest } = manifestOf(p.root, 'app:1');
  const r = tsbuild(['images', '--root', p.root]);
  t.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.match(lines[0], /^IMAGE\s+ID\s+CREATED\s+SIZE$/);
  const size = manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
  const human = size < 1000 ? `${size}B` : `${Number((size / 1000).toPrecision(3))}kB`;
  const columns = lines[1]!.split(/\s{3,}/);
  t.same([columns[0], columns[1], columns[3]], ['app:1', manifest.config.digest.slice(7, 19), human]);
  t.match(columns[2], /^(Less than a second|1 second|[2-9] seconds) ago$/, 'created just now');
  t.notOk(r.stdout.includes(manifestOf(p.root, 'app:1').digest.slice(7, 19)), 'the manifest digest is not the id');
});

t.test('tag, inspect, history and rmi', async (t) => {
  const p = project(t, { Dockerfile: DOCKERFILE, 'a.txt': 'a', 'b.txt': 'b' });
  t.equal(p.build(['-t', 'app']).status, 0);
  const tagged = tsbuild(['tag', '--root', p.root, 'app', 'registry.local:5000/team/app:v2']);
  t.equal(tagged.status, 0, tagged.stderr);
  const { digest, manifest } = manifestOf(p.root, 'app:latest');
  t.equal(manifestOf(p.root, 'registry.local:5000/team/app:v2').digest, digest, 'the new tag names the same manifest');

  const inspected = tsbuild(['inspect', '--root', p.root, 'registry.local:5000/team/app:v2']);
  t.equal(inspected.status, 0, inspected.stderr);
  const [doc, ...more] = JSON.parse(inspected.stdout) as Record<string, unknown>[];
  t.equal(more.length, 0);
  t.equal(doc!.Id, manifest.config.digest);
  t.same((doc!.RepoTags as string[]).sort(), ['app:latest', 'registry.local:5000/team/app:v2']);
  t.match(doc!.Config, { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GREETING=hello'], Cmd: ['/bin/true'], Labels: { team: 'builders' } });
  t.same(doc!.RootFS, { Type: 'layers', Layers: (doc!.RootFS as { Layers: string[] }).Layers });
  t.equal((doc!.RootFS as { Layers: string[] }).Layers.length, 2, 'one diff id a COPY');
  t.equal((doc!.History as unknown[]).length, 5, 'one entry an instruction');
  t.equal(doc!.Size, manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0));
  t.match(doc!.Descriptor, { digest });

  const history = tsbuild(['history', '--root', p.root, 'app']);
  t.equal(history.status, 0, history.stderr);
  const rows = history.stdout.trimEnd().split('\n');
  t.match(rows[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  t.equal(rows.length, 6, 'a header and five steps');
  t.match(rows[1], new RegExp(`^${manifest.config.digest.slice(7, 19)}\\s+.*CMD \\["/bin/true"\\]\\s+0B`), 'newest first, the id on top');
  t.match(rows[2], new RegExp(`^<missing>\\s+.*COPY b.txt /b.txt.*\\s${humanSize(manifest.layers[1]!.size)}\\s`), 'a COPY shows its layer size');
  t.match(rows[5], /^<missing>\s+.*ENV GREETING=hello\s+0B/);

  const untag = tsbuild(['rmi', '--root', p.root, 'app', 'nope']);
  t.equal(untag.status, 1, 'a name not tagged fails the command');
  t.equal(untag.stdout, 'Untagged: app:latest\n');
  t.equal(untag.stderr, 'tsbuild: error: No such image: nope:latest\n');
  const images = tsbuild(['images', '--root', p.root]).stdout;
  t.notMatch(images, /^app:latest\s/m);
  t.match(images, /^registry\.local:5000\/team\/app:v2\s/m, 'the other tag stays');
  const blobs = path.join(p.root, 'layout', 'blobs', 'sha256');
  t.match(tsbuild(['prune', '--root', p.root]).stdout, /^removed 0 blobs/, 'the blobs are still tagged');
  t.equal(tsbuild(['rmi', '--root', p.root, 'registry.local:5000/team/app:v2']).status, 0);
  t.ok(fs.existsSync(path.join(blobs, digest.slice(7))), 'untagging removes no blob');
  t.match(tsbuild(['prune', '--root', p.root]).stdout, /^removed [1-9]\d* blobs/);
  t.notOk(fs.existsSync(path.join(blobs, digest.slice(7))), 'the next prune does');

  const missing = tsbuild(['inspect', '--root', p.root, 'app']);
  t.equal(missing.status, 1);
  t.equal(missing.stderr, 'tsbuild: error: No such image: app:latest\n');
  t.equal(tsbuild(['tag', '--root', p.root, 'app', 'other']).stderr, 'tsbuild: error: No such image: app:latest\n');
  t.notOk(fs.readFileSync(path.join(p.root, 'layout', 'index.json'), 'utf8').includes('other'), 'a failed tag tags nothing');
});

t.test('a mistyped command is named, not taken for a build context', async (t) => {
  const r = tsbuild(['imgaes']);
  t.equal(r.status, 1);
  t.equal(r.stderr, 'tsbuild: unknown command "imgaes" (tsbuild --help lists the commands)\n');
  const extra = tsbuild(['images', 'app']);
  t.equal(extra.stderr, 'tsbuild: error: images takes no arguments\n');
});

t.test('prune removes extracted layers; prune --all removes the RUN cache mounts too', async (t) => {
  const p = busyboxProject(t, ['FROM base', 'RUN --mount=type=cache,target=/cache echo kept > /cache/file']);
  const built = p.build([]);
  t.equal(built.status, 0, built.stderr);
  const mounts = path.join(p.root, 'cache-mounts');
  t.equal(fs.readdirSync(mounts).length, 1, 'the build made a cache mount');
  const snapshots = path.join(p.root, 'snapshots');
  t.ok(fs.readdirSync(snapshots).length > 0, 'the RUN step extracted its base layer into a snapshot');
  t.match(tsbuild(['prune', '--root', p.root]).stdout, /^removed \d+ blobs, \d+ bytes, [1-9]\d* layer snapshots\n$/);
  t.equal(fs.readdirSync(mounts).length, 1, 'a plain prune keeps it');
  t.notOk(fs.existsSync(snapshots), 'a prune removes the extracted layers: they are made again on demand');
  const all = tsbuild(['prune', '--all', '--root', p.root]);
  t.equal(all.status, 0, all.stderr);
  t.match(all.stdout, /, 1 cache mounts\n$/);
  t.notOk(fs.existsSync(mounts), 'prune --all removed it');
});
