#!/usr/bin/env node
// Pulling an image of 10 layers of random data (20 MiB each, ~200 MiB) from a local registry
// (Debian's docker-registry, plain http on 127.0.0.1, started here): tsbuild (a `FROM` of it into
// an empty store), `skopeo copy` to a directory, `buildah pull` into an empty store, in one run.
// The image is built by tsbuild (FROM scratch, one COPY per layer) and pushed with skopeo.
//   node bench/pull.mjs [iterations]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildah, removeBuildahStore, run, startRegistry, time, TSBUILD } from './peers.mjs';

const iterations = Number(process.argv[2] ?? 3);
const LAYERS = 10;
const LAYER_BYTES = 20 << 20;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-pull-bench-'));
let registry;
try {
  registry = await startRegistry(path.join(work, 'registry'));
  const image = `${registry.host}/bench/random:latest`;
  const config = path.join(work, 'tsbuild.toml');
  fs.writeFileSync(config, `[registry."${registry.host}"]\nhttp = true\n`);
  const env = { env: { ...process.env, TSBUILD_CONFIG: config, TMPDIR: work } };

  const context = path.join(work, 'image');
  fs.mkdirSync(context);
  const lines = ['FROM scratch'];
  for (let i = 0; i < LAYERS; i++) {
    fs.writeFileSync(path.join(context, `layer${i}.bin`), randomBytes(LAYER_BYTES));
    lines.push(`COPY layer${i}.bin /data/`);
  }
  fs.writeFileSync(path.join(context, 'Dockerfile'), `${lines.join('\n')}\nCMD ["none"]\n`);
  run(TSBUILD, ['build', '-q', '--root', path.join(work, 'maker'), '-o', `type=oci,dest=${path.join(work, 'oci')}`, context], env);
  run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${path.join(work, 'oci')}`, `docker://${image}`]);
  fs.writeFileSync(path.join(work, 'From.Dockerfile'), `FROM ${image}\n`);

  const pullers = {
    tsbuild: (dir) => [TSBUILD, ['build', '-q', '--root', dir, '-f', path.join(work, 'From.Dockerfile'), '-t', 'pulled', work], env],
    skopeo: (dir) => ['skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${image}`, `dir:${dir}`]],
    buildah: (dir) => buildah(dir)(['pull', '-q', '--tls-verify=false', image]),
  };
  const samples = Object.fromEntries(Object.keys(pullers).map((k) => [k, []]));
  for (let i = 0; i < iterations; i++) {
    for (const [name, command] of Object.entries(pullers)) {
      const dir = path.join(work, `${name}-${i}`);
      samples[name].push(time(...command(dir)));
      if (name === 'buildah') removeBuildahStore(dir);
      else fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  console.log(`host: ${os.cpus().length} cpus; ${LAYERS} layers of ${LAYER_BYTES >> 20} MiB random data; median of ${iterations} pulls`);
  console.log('| puller | seconds | tsbuild as a multiple |');
  console.log('| --- | --- | --- |');
  for (const [name, ms] of Object.entries(m)) console.log(`| ${name} | ${(ms / 1000).toFixed(2)} | ${name === 'tsbuild' ? '' : `x${(m.tsbuild / ms).toFixed(2)}`} |`);
} finally {
  await registry?.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
