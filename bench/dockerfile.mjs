#!/usr/bin/env node
// Dockerfile front end benchmark: the time to parse, and to parse and plan (a build of metadata
// steps only, into a fresh store), Dockerfiles of 20000 and 100000 `LABEL a<N>=b` or `ENV` lines.
// Before the LABEL fix 20000 LABEL lines took 83 s; linear work takes ~5x as long for 5x the lines.
//   node bench/dockerfile.mjs [iterations]     (run `npx tsc -b` first: it loads the compiled builder
// through its public entry point, @tsrunc/builder, as any client of the library does)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Build, loadIgnore, openStore, parseDockerfile } from '@tsrunc/builder';

const iterations = Number(process.argv[2] ?? 3);

/** The engine's progress, discarded: the bench times the front end, not the log. */
const silent = { step: (_title) => ({ id: 0, done() {}, log() {}, error() {}, canceled() {} }), close() {} };

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-bench-dockerfile-'));
process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));

const kinds = {
  LABEL: (n) => `FROM scratch\n${Array.from({ length: n }, (_, i) => `LABEL a${i}=b`).join('\n')}\n`,
  ENV: (n) => `FROM scratch\n${Array.from({ length: n }, (_, i) => `ENV a${i}=b`).join('\n')}\n`,
};

function parseMs(text) {
  const started = performance.now();
  parseDockerfile(text);
  return performance.now() - started;
}

async function planMs(text) {
  const store = await openStore(fs.mkdtempSync(path.join(work, 'store-')));
  const started = performance.now();
  const build = new Build({
    dockerfile: parseDockerfile(text), dockerfileName: 'Dockerfile', buildArgs: {}, noCache: false, store,
    progress: silent,
    context: { dir: work, ignore: loadIgnore(work, path.join(work, 'Dockerfile')), label: 'build context' },
  });
  await build.run();
  return performance.now() - started;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
await planMs(kinds.LABEL(1000)); // warm-up: the JIT, not the front end
console.log(`median of ${iterations} (ms)     parse    parse+plan`);
for (const [kind, make] of Object.entries(kinds)) {
  for (const lines of [20000, 100000]) {
    const text = make(lines);
    const parse = [];
    const plan = [];
    for (let i = 0; i < iterations; i++) {
      parse.push(parseMs(text));
      plan.push(await planMs(text));
    }
    console.log(`${kind.padEnd(6)} ${String(lines).padStart(6)} lines  ${median(parse).toFixed(0).padStart(7)}  ${median(plan).toFixed(0).padStart(12)}`);
  }
}
