#!/usr/bin/env node
// tsbuild against BuildKit (inside a private dockerd, driven by `DOCKER_BUILDKIT=1 docker build`)
// and buildah (`buildah bud --layers`), in one run, on three projects over a Debian base made
// here (bench/debian-base.mjs): "apt", apt-get install with cache mounts then a config file;
// "gcc", a C program built in a Debian stage and copied onto scratch; "node", `npm ci` of a small
// project from the npm registry in one stage, its node_modules and sources copied into another.
// Each: a cold build (base image only), a rebuild with nothing changed, one after one file
// changed, after one unmeasured cold build. Every builder gets the host's network (dockerd has
// no bridge here). apt fetches through a local caching proxy (bench/package-cache.mjs), which the
// unmeasured build fills: the package mirror's speed varied threefold within minutes, and decided
// which builder won a cold build. npm still meets its registry: each project is built in several
// rounds, the builders' order turned each round, and the medians reported.
//   node bench/compare.mjs [--rounds N] [projects...]     (3 rounds unless told)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { debianBaseTar } from './debian-base.mjs';
import { buildah, removeBuildahStore, run, startDockerd, startPackageCache, time, TSBUILD } from './peers.mjs';

const BASE = 'localhost/bench-debian:bookworm';
const CACHE_MOUNTS = '--mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt,sharing=locked';
/** apt keeps what it fetched (in the cache mounts) and fetches through the bench's proxy. */
const aptSetup = (proxy) => `echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache`
  + ` && echo 'Acquire::http::Proxy "${proxy}";' > /etc/apt/apt.conf.d/proxy`;
const projects = {
  apt: {
    files: { 'etc/app.conf': 'level = 1\n' },
    change: ['etc/app.conf', 'level = 2\n'],
    dockerfile: (proxy) => [`FROM ${BASE}`, `RUN ${aptSetup(proxy)}`,
      `RUN ${CACHE_MOUNTS} apt-get update -qq && apt-get install -y -qq --no-install-recommends curl xz-utils >/dev/null`,
      'COPY etc/ /etc/app/', 'CMD ["curl", "--version"]'],
  },
  gcc: {
    files: { 'hello.c': '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' },
    change: ['hello.c', '#include <stdio.h>\nint main(void) { puts("hello again"); return 0; }\n'],
    dockerfile: (proxy) => [`FROM ${BASE} AS build`, `RUN ${aptSetup(proxy)}`,
      `RUN ${CACHE_MOUNTS} apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null`,
      'COPY hello.c /src/', 'RUN gcc -static -O2 -o /hello /src/hello.c', 'FROM scratch', 'COPY --from=build /hello /hello', 'CMD ["/hello"]'],
  },
  node: {
    files: {
      'package.json': JSON.stringify({ name: 'bench-app', version: '1.0.0', private: true, dependencies: { express: '4.21.2', lodash: '4.17.21', 'date-fns': '3.6.0' } }, null, 2),
      'src/index.js': "console.log(require('lodash').VERSION);\n",
    },
    change: ['src/index.js', "console.log('changed', require('lodash').VERSION);\n"],
    lock: true,
    dockerfile: () => [`FROM ${BASE} AS deps`, 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt', 'WORKDIR /app',
      'COPY package.json package-lock.json ./', 'RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund -q',
      `FROM ${BASE}`, 'WORKDIR /app', 'COPY --from=deps /app/node_modules ./node_modules', 'COPY package.json ./', 'COPY src/ ./src/',
      'CMD ["node", "src/index.js"]'],
  },
};
const { values: options, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '3' } }, allowPositionals: true });
const ROUNDS = Number(options.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds ${options.rounds}: a whole number of at least 1`);
const chosen = positionals.length > 0 ? positionals : Object.keys(projects);
for (const name of chosen) if (!projects[name]) throw new Error(`no project ${name} (${Object.keys(projects).join(', ')})`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-compare-'));
const baseTar = debianBaseTar();
const cleanups = [() => fs.rmSync(work, { recursive: true, force: true })];
const cleanUp = async () => { for (const c of cleanups.reverse()) await c(); };
process.on('SIGINT', () => cleanUp().then(() => process.exit(130)));

/** The builders: how each puts the base image in place, builds, and forgets its cache. */
async function builders() {
  const dockerd = await startDockerd(path.join(work, 'dockerd'));
  cleanups.push(dockerd.stop);
  const docker = dockerd.docker;
  const tsbuildStore = path.join(work, 'tsbuild');
  const tsbuildEnv = { env: { ...process.env, TMPDIR: work } };
  const buildahStore = path.join(work, 'buildah');
  const bah = buildah(buildahStore);
  cleanups.push(() => removeBuildahStore(buildahStore));
  return {
    tsbuild: {
      seed() {
        fs.copyFileSync(baseTar, path.join(work, 'rootfs.tar'));
        fs.writeFileSync(path.join(work, 'Base.Dockerfile'), 'FROM scratch\nADD rootfs.tar /\n');
        run(TSBUILD, ['build', '-q', '--root', tsbuildStore, '-f', path.join(work, 'Base.Dockerfile'), '-t', BASE, work], tsbuildEnv);
        fs.rmSync(path.join(work, 'rootfs.tar'));
      },
      build: (dir, tag) => [TSBUILD, ['build', '-q', '--root', tsbuildStore, '--network', 'host', '--allow', 'network.host', '-t', tag, dir], tsbuildEnv],
      reset() {
        fs.rmSync(tsbuildStore, { recursive: true, force: true });
        this.seed();
      },
    },
    buildkit: {
      seed: () => run(...docker(['import', baseTar, BASE])),
      build: (dir, tag) => docker(['build', '-q', '--network', 'host', '-t', tag, dir]),
      reset(tag) {
        run(...docker(['rmi', tag]));
        run(...docker(['builder', 'prune', '-af']));
      },
    },
    buildah: {
      seed() {
        const ctr = run(...bah(['from', 'scratch'])).trim();
        run(...bah(['add', ctr, baseTar, '/']));
        run(...bah(['commit', '-q', ctr, BASE]));
        run(...bah(['rm', ctr]));
      },
      build: (dir, tag) => bah(['bud', '--runtime', 'runc', '--layers', '-q', '--network', 'host', '-t', tag, dir]),
      reset() {
        removeBuildahStore(buildahStore);
        this.seed();
      },
    },
  };
}

function makeProject(name, proxy) {
  const p = projects[name];
  const dir = path.join(work, `project-${name}`);
  for (const [file, content] of Object.entries(p.files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  if (p.lock) run('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', '-q'], { cwd: dir });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), `${p.dockerfile(proxy).join('\n')}\n`);
  return dir;
}

const PHASES = ['cold', 'no change', 'one file changed'];
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
try {
  const proxy = await startPackageCache();
  cleanups.push(proxy.stop);
  const all = await builders();
  for (const b of Object.values(all)) b.seed();
  const results = {};
  const order = Object.keys(all);
  for (const name of chosen) {
    // An unmeasured cold build first: it fills the package proxy (and the first builder of a
    // project no longer meets the mirror cold: tsbuild first 13.94 s, BuildKit 9.06, buildah last
    // 6.63; in reverse order buildah first 10.13, BuildKit 7.21, tsbuild last 7.34).
    const warm = makeProject(name, proxy.url);
    run(...all.tsbuild.build(warm, `bench-${name}:warm-up`));
    fs.rmSync(warm, { recursive: true, force: true });
    all.tsbuild.reset();
    const times = Object.fromEntries(order.map((b) => [b, Object.fromEntries(PHASES.map((p) => [p, []]))]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const builder of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
        const b = all[builder];
        const dir = makeProject(name, proxy.url);
        const tag = `bench-${name}:${builder}`;
        const row = {};
        // What the last reset wrote (a store seeded anew: the base's 240 MB, twice for tsbuild)
        // goes to disk now, not in the middle of the cold build timed next (an overlay's unmount
        // syncs the filesystem: the first RUN after a seed took 0.5 s longer).
        run('sync', []);
        row.cold = time(...b.build(dir, tag));
        row['no change'] = time(...b.build(dir, tag));
        fs.writeFileSync(path.join(dir, projects[name].change[0]), projects[name].change[1]);
        row['one file changed'] = time(...b.build(dir, tag));
        for (const p of PHASES) times[builder][p].push(row[p]);
        fs.rmSync(dir, { recursive: true, force: true });
        b.reset(tag);
        console.error(`${name} round ${round + 1} ${builder}: ${PHASES.map((p) => `${p} ${(row[p] / 1000).toFixed(2)} s`).join(', ')}`);
      }
    }
    results[name] = Object.fromEntries(order.map((b) => [b, Object.fromEntries(PHASES.map((p) => [p, median(times[b][p])]))]));
  }
  console.log(`\nhost: ${os.cpus().length} cpus; medians of ${ROUNDS} rounds, seconds, and tsbuild's time as a multiple of each peer's`);
  console.log('| project | phase | tsbuild | BuildKit | buildah | tsbuild/BuildKit | tsbuild/buildah |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, r] of Object.entries(results)) {
    for (const phase of PHASES) {
      const s = (b) => (r[b][phase] / 1000).toFixed(2);
      const x = (b) => `x${(r.tsbuild[phase] / r[b][phase]).toFixed(2)}`;
      console.log(`| ${name} | ${phase} | ${s('tsbuild')} | ${s('buildkit')} | ${s('buildah')} | ${x('buildkit')} | ${x('buildah')} |`);
    }
  }
} finally {
  await cleanUp();
}
