// tsbuild against BuildKit, in one run, on realistic Dockerfiles (conformance/fixtures/build-parity):
// a service installing from apt through cache mounts, with a user, heredocs, a .dockerignore with
// exceptions and every piece of run-time metadata; a C program built with gcc and shipped on
// scratch; a Node app installed with `npm ci` (offline: its one dependency is a local package)
// in one stage and run from another. Both builders start from the same Debian base (debootstrap,
// made once per machine by bench/debian-base.mjs), built by tsbuild and loaded into a private
// dockerd; BuildKit is that dockerd's (`DOCKER_BUILDKIT=1 docker build`). tsbuild's image is
// loaded there too, and both are read back the same way: the config document (`docker save`) and
// the file tree of a container (`docker export`). Every difference fails, but for the few listed
// below, each with the reason BuildKit itself would not give the same bytes twice.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { hasDockerd, startDockerd, TSBUILD, type Dockerd } from '../src/dockerd.js';
import { exportedTree, savedConfig, type TreeEntry } from '../src/image-tree.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = path.join(REPO, 'conformance/fixtures/build-parity');
const BASE = 'localhost/parity-debian:bookworm';
interface Project {
  name: string;
  /**
   * A Dockerfile of the same meaning for BuildKit, where the project's own uses syntax docker
   * 20.10's BuildKit does not read (heredocs, Dockerfile 1.4), and the history text tsbuild must
   * write for the instructions written differently there, as BuildKit 1.4+ writes it (the
   * heredoc's body for a lone `RUN <<EOF`, the heredoc reassembled otherwise, `<<NAME` for a
   * COPY source). Everything else must be the same.
   */
  reference?: { dockerfile: string; history: string[] };
  /** Paths the image must have, and paths it must not (what .dockerignore keeps out): the trees' agreement is no accident. */
  expect?: { present: string[]; absent: string[] };
}
const PROJECTS: Project[] = [
  {
    name: 'service',
    expect: {
      present: ['/srv/app/README.md', '/srv/app/config/keep.local.json', '/srv/app/config/current.json', '/srv/app/docs/public/index.html', '/usr/bin/jq'],
      absent: ['/srv/app/NOTES.md', '/srv/app/config/dev.local.json', '/srv/app/secrets', '/srv/app/docs/internal', '/srv/app/Dockerfile'],
    },
  },
  { name: 'c-scratch' },
  { name: 'node' },
  {
    name: 'heredocs',
    reference: {
      dockerfile: 'Dockerfile.reference',
      history: [
        'COPY <<EOF /etc/app/motd # buildkit',
        'COPY <<EOT /usr/local/bin/healthy # buildkit',
        'RUN |1 GREETING=welcome /bin/sh -c set -e\nchmod 755 /usr/local/bin/healthy\nmkdir -p /var/lib/app\nchmod 2770 /var/lib/app\nln -s /etc/app/motd /var/lib/app/motd\n # buildkit',
        'RUN |1 GREETING=welcome /bin/sh -c <<EOF bash\nset -euo pipefail\nprintf \'%s\\n\' "$(wc -l < /etc/app/motd)" > /etc/app/lines\nEOF # buildkit',
        'COPY <<one.txt <<two.txt /srv/ # buildkit',
      ],
    },
  },
];

/**
 * Files whose content changes from one build to the next in BuildKit too: their entry (kind,
 * mode, owner) is compared, their bytes are not.
 */
const VOLATILE_CONTENT: { path: RegExp; why: string }[] = [
  { path: /^\/var\/log\/(dpkg\.log|apt\/(history|term)\.log)$/, why: 'dpkg and apt log the time of each action' },
  { path: /^\/var\/cache\/ldconfig\/aux-cache$/, why: "ldconfig's cache of the libraries' inodes and times" },
];

/**
 * The diff_id of an empty layer (a tar of two zero blocks). Docker 20.10's exporter keeps one for
 * a step that changed nothing (WORKDIR of an existing directory); BuildKit's own exporter drops
 * it and marks the step's history entry empty_layer (its emptyGZLayer), as tsbuild does. Both
 * images are read as BuildKit's exporter writes them.
 */
const EMPTY_LAYER = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** The parts of an image config a Dockerfile decides: run-time settings and history, not dates. */
function decided(config: Record<string, unknown>) {
  const c = (config.config ?? {}) as Record<string, unknown>;
  const history = (config.history ?? []) as { created_by?: string; empty_layer?: boolean; comment?: string }[];
  const diffIds = (config.rootfs as { diff_ids: string[] }).diff_ids;
  let next = 0;
  const steps = history.map((h) => {
    // The entries that are not empty take the layers in order.
    const diffId = h.empty_layer === true ? EMPTY_LAYER : diffIds[next++];
    return { created_by: h.created_by ?? '', empty_layer: diffId === EMPTY_LAYER, comment: h.comment ?? '' };
  });
  return {
    architecture: config.architecture, os: config.os,
    Env: c.Env, Cmd: c.Cmd, Entrypoint: c.Entrypoint, User: c.User, WorkingDir: c.WorkingDir, Volumes: c.Volumes,
    Healthcheck: c.Healthcheck, ExposedPorts: c.ExposedPorts, Labels: c.Labels, StopSignal: c.StopSignal, Shell: c.Shell,
    OnBuild: c.OnBuild, ArgsEscaped: c.ArgsEscaped,
    history: steps,
    layers: diffIds.filter((d) => d !== EMPTY_LAYER).length,
  };
}

const show = (e: TreeEntry | undefined) => (e ? JSON.stringify(e) : 'absent');

/**
 * One line per path whose entries differ, but for content the list above says is volatile; and
 * one per volatile content that did differ (with the reason it may).
 */
function treeDifferences(buildkit: Map<string, TreeEntry>, tsbuild: Map<string, TreeEntry>): { differences: string[]; volatile: string[] } {
  const differences: string[] = [];
  const volatile: string[] = [];
  for (const p of [...new Set([...buildkit.keys(), ...tsbuild.keys()])].sort()) {
    let [b, s] = [buildkit.get(p), tsbuild.get(p)];
    const why = VOLATILE_CONTENT.find((v) => v.path.test(p))?.why;
    if (b && s && why !== undefined && b.sha256 !== s.sha256) {
      volatile.push(`${p}: ${why}`);
      [b, s] = [{ ...b, size: 0, sha256: '' }, { ...s, size: 0, sha256: '' }];
    }
    if (show(b) !== show(s)) differences.push(`${p}: BuildKit ${show(b)}, tsbuild ${show(s)}`);
  }
  return { differences, volatile };
}

function tsbuild(args: string[]) {
  return spawnSync(TSBUILD, args, { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 900_000 });
}

const tail = (text: string) => text.trim().split('\n').slice(-8).join('\n');

/** The Debian base's root filesystem as a tar, made once per machine; undefined if it cannot be made here. */
function debianBase(): string | undefined {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bench/debian-base.mjs')], { encoding: 'utf8', timeout: 1_200_000 });
  if (r.status !== 0) console.log(`# no Debian base: ${tail(r.stderr)}`);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const baseTar = hasDockerd ? debianBase() : undefined;
const started = baseTar
  ? await startDockerd(t)
  : { skip: hasDockerd ? 'no Debian base (bench/debian-base.mjs needs debootstrap and a Debian mirror)' : 'docker.io is not installed (scripts/setup-host.sh installs it)' };
const skip = 'skip' in started ? started.skip : false;
if (skip) console.log(`# skipping: ${skip}`);
t.setTimeout(40 * 60_000);

t.test('tsbuild builds realistic Dockerfiles as BuildKit does', { skip }, async (t) => {
  const d = started as Dockerd;
  const store = d.scratch('tsbuild-store');
  const build = ['build', '--root', store, '--network', 'host', '--allow', 'network.host'];

  // The one base both builders start from: tsbuild's image of the debootstrap tree, loaded into dockerd.
  const seed = d.scratch('seed');
  fs.copyFileSync(baseTar!, path.join(seed, 'rootfs.tar'));
  fs.writeFileSync(path.join(seed, 'Dockerfile'), 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n');
  const seedArchive = path.join(d.scratch('archives'), 'base.tar');
  const seeded = tsbuild([...build, '-q', '-t', BASE, '-o', `type=docker-archive,dest=${seedArchive}`, seed]);
  t.equal(seeded.status, 0, `the base builds: ${tail(seeded.stderr)}`);
  fs.rmSync(seed, { recursive: true, force: true });
  const loaded = d.docker(['load', '-i', seedArchive], 600_000);
  t.equal(loaded.status, 0, `dockerd loads the base: ${loaded.stderr.trim()}`);
  fs.rmSync(seedArchive, { force: true });
  if (seeded.status !== 0 || loaded.status !== 0) return;

  for (const { name, reference, expect } of PROJECTS) {
    t.test(name, async (t) => {
      const context = path.join(FIXTURES, name);
      const refs = { buildkit: `parity-${name}:buildkit`, tsbuild: `parity-${name}:tsbuild` };
      const bk = d.docker(['build', '--network', 'host', '--progress', 'plain', ...(reference ? ['-f', path.join(context, reference.dockerfile)] : []), '-t', refs.buildkit, context], 1_800_000);
      t.equal(bk.status, 0, `BuildKit builds it: ${tail(bk.stderr)}`);
      const archive = path.join(d.scratch('archives'), `${name}.tar`);
      const ts = tsbuild([...build, '--progress', 'plain', '-t', refs.tsbuild, '-o', `type=docker-archive,dest=${archive}`, context]);
      t.equal(ts.status, 0, `tsbuild builds it: ${tail(ts.stderr)}`);
      if (bk.status !== 0 || ts.status !== 0) return;
      const load = d.docker(['load', '-i', archive], 600_000);
      t.equal(load.status, 0, `dockerd loads tsbuild's image: ${load.stderr.trim()}`);
      fs.rmSync(archive);

      const scratch = d.scratch(`read-${name}`);
      const [ours, theirs] = [decided(savedConfig(d, refs.tsbuild, scratch)), decided(savedConfig(d, refs.buildkit, scratch))];
      if (reference) {
        const written = ours.history.filter((h, i) => h.created_by !== theirs.history[i]?.created_by);
        t.same(written.map((h) => h.created_by), reference.history, 'heredoc instructions in history as BuildKit 1.4+ writes them');
        for (const h of written) theirs.history[ours.history.indexOf(h)]!.created_by = h.created_by;
      }
      t.same(ours, theirs, 'the image configs decide the same');
      const trees = { buildkit: exportedTree(d, refs.buildkit, scratch), tsbuild: exportedTree(d, refs.tsbuild, scratch) };
      if (expect) {
        t.same(expect.present.filter((p) => !trees.tsbuild.has(p)), [], 'what the Dockerfile and .dockerignore keep is there');
        t.same(expect.absent.filter((p) => trees.tsbuild.has(p)), [], 'what .dockerignore leaves out is not');
      }
      const { differences, volatile } = treeDifferences(trees.buildkit, trees.tsbuild);
      t.same(differences, [], 'the file trees are the same: paths, kinds, modes, owners, symlink targets, contents');
      for (const line of volatile) t.comment(`content differs, as from one BuildKit build to the next: ${line}`);
      t.equal(d.docker(['rmi', refs.buildkit, refs.tsbuild]).status, 0, 'both images removed');
      fs.rmSync(scratch, { recursive: true, force: true });
    });
  }
});
