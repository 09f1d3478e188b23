#!/usr/bin/env node
// tsbuild against BuildKit (inside a private dockerd, driven by `DOCKER_BUILDKIT=1 docker build`)
// and buildah (`buildah bud --layers`), in one run, on three projects over a Debian base made
// here (bench/debian-base.mjs): "apt", apt-get install with cache mounts then a config file;
// "gcc", a C program built in a Debian stage and copied onto scratch; "node", `npm ci` of a small
// project from the npm registry in one stage, its node_modules and sources copied into another.
// Each: a cold build (base image only), a rebuild with nothing changed, one after one file
// changed, after one unmeasured cold build. Every builder gets the host's network (dockerd has
// no bridge here).
//   node bench/compare.mjs [projects...]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { debianBaseTar } from './debian-base.mjs';
import { buildah, removeBuildahStore, run, startDockerd, time, TSBUILD } from './peers.mjs';

const BASE = 'localhost/bench-debian:bookworm';
const CACHE_MOUNTS = '--mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt,sharing=locked';
const APT_KEEP = "echo 'Binary::apt::APT::Keep-Downloaded-Packages \"true\";' > /etc/apt/apt.conf.d/keep-cache";
const projects = {
  apt: {
    files: { 'etc/app.conf': 'level = 1\n' },
    change: ['etc/app.conf', 'level = 2\n'],
    dockerfile: [`FROM ${BASE}`, `RUN ${APT_KEEP}`,
      `RUN ${CACHE_MOUNTS} apt-get update -qq && apt-get install -y -qq --no-install-recommends curl xz-utils >/dev/null`,
      'COPY etc/ /etc/app/', 'CMD ["curl", "--version"]'],
  },
  gcc: {
    files: { 'hello.c': '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' },
    change: ['hello.c', '#include <stdio.h>\nint main(void) { puts("hello again"); return 0; }\n'],
    dockerfile: [`FROM ${BASE} AS build`, `RUN ${APT_KEEP}`,
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
    dockerfile: [`FROM ${BASE} AS deps`, 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt', 'WORKDIR /app',
      'COPY package.json package-lock.json ./', 'RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund -q',
      `FROM ${BASE}`, 'WORKDIR /app', 'COPY --from=deps /app/node_modules ./node_modules', 'COPY package.json ./', 'COPY src/ ./src/',
      'CMD ["node", "src/index.js"]'],
  },
};
const chosen = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(projects);

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

function makeProject(name) {
  const p = projects[name];
  const dir = path.join(work, `project-${name}`);
  for (const [file, content] of Object.entries(p.files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  if (p.lock) run('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', '-q'], { cwd: dir });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), `${p.dockerfile.join('\n')}\n`);
  return dir;
}

const PHASES = ['cold', 'no change', 'one file changed'];
try {
  const all = await builders();
  for (const b of Object.values(all)) b.seed();
  const results = {};
  for (const name of chosen) {
    results[name] = {};
    // An unmeasured cold build first: the first builder of a project met the package mirror cold
    // and lost seconds the others did not (apt, cold, two runs minutes apart: tsbuild first 13.94 s,
    // BuildKit 9.06, buildah last 6.63; in reverse order buildah first 10.13, BuildKit 7.21,
    // tsbuild last 7.34).
    const warm = makeProject(name);
    run(...all.tsbuild.build(warm, `bench-${name}:warm-up`));
    fs.rmSync(warm, { recursive: true, force: true });
    all.tsbuild.reset();
    for (const [builder, b] of Object.entries(all)) {
      const dir = makeProject(name);
      const tag = `bench-${name}:${builder}`;
      const row = {};
      row.cold = time(...b.build(dir, tag));
      row['no change'] = time(...b.build(dir, tag));
      fs.writeFileSync(path.join(dir, projects[name].change[0]), projects[name].change[1]);
      row['one file changed'] = time(...b.build(dir, tag));
      results[name][builder] = row;
      fs.rmSync(dir, { recursive: true, force: true });
      b.reset(tag);
      console.error(`${name} ${builder}: ${PHASES.map((p) => `${p} ${(row[p] / 1000).toFixed(2)} s`).join(', ')}`);
    }
  }
  console.log(`\nhost: ${os.cpus().length} cpus; seconds, and tsbuild's time as a multiple of each peer's`);
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
