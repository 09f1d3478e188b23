#!/usr/bin/env node
// Builder benchmark: a cold build, a rebuild with nothing changed, and a rebuild after one file
// changed, of two projects in one run: "copy", a small app copied onto scratch, with tsbuild and
// buildah (`buildah bud`); "run", an image of several layers (one a 64 MB file) with RUN and
// WORKDIR steps and a second stage that takes a directory with COPY --from --chown=<name>, with
// tsbuild alone (buildah's crun refuses this host's hybrid cgroups).
//   node bench/build.mjs [iterations]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const iterations = Number(process.argv[2] ?? 5);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-bench-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));

// The context: a static busybox, 200 small files of an "app", passwd and group files, a 64 MB file.
const context = path.join(work, 'ctx');
fs.mkdirSync(path.join(context, 'app'), { recursive: true });
fs.copyFileSync('/bin/busybox', path.join(context, 'busybox'));
for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(context, 'app', `file${i}.txt`), `content ${i}\n`.repeat(50));
fs.writeFileSync(path.join(context, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1500:1500::/home/alice:/bin/sh\n');
fs.writeFileSync(path.join(context, 'group'), 'root:x:0:\nalice:x:1500:\n');
const big = fs.openSync(path.join(context, 'big.bin'), 'w');
for (let i = 0; i < 64; i++) fs.writeSync(big, Buffer.alloc(1 << 20, i));
fs.closeSync(big);
const projects = {
  copy: 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY app/ /app/\nENV GREETING=hi\nCMD ["/bin/busybox", "ls", "/app"]\n',
  run: [
    'FROM scratch AS base', 'COPY busybox /bin/busybox', 'COPY passwd group /etc/', 'COPY big.bin /data/big.bin', 'COPY app/ /app/',
    'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox md5sum /app/* > /sums"]', 'WORKDIR /work/dir',
    'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox cp /sums /work/dir/sums"]',
    'FROM base', 'COPY --from=base --chown=alice /app/ /copy/', 'RUN ["/bin/busybox", "touch", "/done"]', '',
  ].join('\n'),
};
for (const [name, text] of Object.entries(projects)) fs.writeFileSync(path.join(context, `${name}.Dockerfile`), text);

const builders = [
  ['tsbuild', (store, tag, file) => [path.join(repo, 'packages/builder/bin/tsbuild'), ['build', '--root', store, '-f', file, '-t', tag, context]]],
  ['buildah', (store, tag, file) => ['buildah', ['--root', store, '--runroot', `${store}-run`, 'bud', '--layers', '-q', '-f', file, '-t', tag, context]]],
].filter(([name]) => name !== 'buildah' || spawnSync('buildah', ['--version']).status === 0);
if (builders.length < 2) console.log('buildah not installed: tsbuild alone');

function time(command, args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { encoding: 'utf8', env: process.env });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`host: ${os.cpus().length} cpus; median of ${iterations} runs, ms`);
for (const project of Object.keys(projects)) {
  const file = path.join(context, `${project}.Dockerfile`);
  const results = {};
  for (const [name, command] of builders.filter(([name]) => project === 'copy' || name === 'tsbuild')) {
    const samples = { cold: [], 'no change': [], 'one file changed': [] };
    for (let i = 0; i < iterations; i++) {
      const store = path.join(work, `${name}-store-${i}`);
      samples.cold.push(time(...command(store, `bench:${i}`, file)));
      samples['no change'].push(time(...command(store, `bench:${i}`, file)));
      fs.writeFileSync(path.join(context, 'app', 'file7.txt'), `changed ${i} ${Date.now()}\n`);
      samples['one file changed'].push(time(...command(store, `bench:${i}`, file)));
      if (name === 'buildah') spawnSync('buildah', ['--root', store, '--runroot', `${store}-run`, 'rmi', '--all', '--force']);
      fs.rmSync(store, { recursive: true, force: true });
      fs.rmSync(`${store}-run`, { recursive: true, force: true });
    }
    results[name] = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  }
  console.log(`project "${project}"`);
  for (const phase of ['cold', 'no change', 'one file changed']) {
    const base = results.buildah?.[phase];
    const row = Object.entries(results).map(([name, r]) => `${name} ${r[phase].toFixed(0)}${base && name !== 'buildah' ? ` (x${(r[phase] / base).toFixed(2)} of buildah)` : ''}`);
    console.log(`  ${phase.padEnd(17)} ${row.join('   ')}`);
  }
}
