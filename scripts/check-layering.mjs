#!/usr/bin/env node
// The layering rules the packages keep, checked on the TypeScript sources (npm test runs this
// first):
//   - another package is imported only through its public entry points (its package.json
//     "exports"), never by a path into it;
//   - nothing but the runtime's cli/ imports cli/ (the CLI is a client of the library), but for
//     the runtime's unit tests of the CLI's own parts (its flag reader);
//   - no relative import leaves its package.
// With --graph it also prints who imports whom, by folder, and the cycles among folders.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const packages = ['packages/spec-schemas', 'packages/runtime', 'packages/builder', 'conformance'];
const publicEntries = new Set(packages.flatMap((dir) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(repo, dir, 'package.json'), 'utf8'));
  return Object.keys(manifest.exports ?? { '.': true }).map((key) => path.posix.join(manifest.name, key));
}));

function* sources(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.tap'].includes(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(full);
    else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield full;
  }
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems = [];
const edges = new Map();
/** "packages/runtime/src/container/create.ts" -> "runtime/container" */
const folderOf = (file) => {
  const rel = path.relative(repo, file).split(path.sep);
  const pkg = rel[0] === 'packages' ? rel[1] : rel[0];
  const rest = rel[0] === 'packages' ? rel.slice(2) : rel.slice(1);
  return [pkg, ...rest.slice(0, rest.length > 2 ? 2 : 1)].join('/');
};

for (const pkg of packages) {
  const root = path.join(repo, pkg);
  for (const file of sources(root)) {
    const text = fs.readFileSync(file, 'utf8');
    const rel = path.relative(repo, file);
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2];
      if (spec.startsWith('@tsrunc/')) {
        if (!publicEntries.has(spec)) problems.push(`${rel}: imports ${spec}, which is not a public entry point (${[...publicEntries].join(', ')})`);
        continue;
      }
      if (!spec.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(root + path.sep)) problems.push(`${rel}: ${spec} leaves its package`);
      const from = folderOf(file), to = folderOf(target.replace(/\.js$/, '.ts'));
      if (to === 'runtime/src/cli' && from !== 'runtime/src/cli' && from !== 'runtime/test') problems.push(`${rel}: imports cli/ (${spec}); the CLI is a client of the library, not a part of it`);
      if (from !== to) {
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from).add(to);
      }
    }
  }
}

if (process.argv.includes('--graph')) {
  for (const [from, tos] of [...edges].sort()) console.log(`${from} -> ${[...tos].sort().join(', ')}`);
  // Cycles among folders: a depth-first search that reports each back edge's loop once.
  const seen = new Set(), stack = [], cycles = new Set();
  const visit = (node) => {
    if (stack.includes(node)) { cycles.add(stack.slice(stack.indexOf(node)).concat(node).join(' -> ')); return; }
    if (seen.has(node)) return;
    seen.add(node);
    stack.push(node);
    for (const next of edges.get(node) ?? []) visit(next);
    stack.pop();
  };
  for (const node of edges.keys()) visit(node);
  console.log(cycles.size ? `cycles:\n  ${[...cycles].join('\n  ')}` : 'cycles: none');
}
if (problems.length) {
  console.error(`layering: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('layering: every import keeps to the rules');
