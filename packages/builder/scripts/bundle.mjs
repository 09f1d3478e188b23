// Bundles tsbuild's compiled modules (and the packages they import, but for koffi's native addon)
// into dist/bundle, for start-up time: resolving and loading ~200 ES modules one by one took
// most of a cached rebuild (`tsbuild --help` 0.31 s). The command line stays a dynamic import of
// its own (entry.ts), a chunk beside the entry. Where the project's install brought Bun, it also
// compiles dist/tsbuild: one executable with Bun and tsbuild as bytecode, which bin/tsbuild
// prefers (no parse at start: `tsbuild --help` ~10 ms of CPU against ~80 for the bundle on Bun).
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSingleBinary, swapInDirectory } from '../../../scripts/single-binary.mjs';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const out = path.join(dist, 'bundle');

// A bundled module's import.meta.url would be its bundle file's. The runtime finds the tsrunc
// launcher, its native stage and koffi from its modules' own places, so each module keeps the URL
// of its compiled file, written relative to the bundle (every output file sits in dist/bundle/).
const ownUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const relative = path.relative(out, args.path);
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

// Built beside the last bundle and swapped in whole, so that a tsbuild running meanwhile finds one
// bundle or the other. Chunk names carry content hashes: the last build's must not linger.
fs.rmSync(`${out}.new`, { recursive: true, force: true });
await build({
  absWorkingDir: dist,
  entryPoints: ['src/entry.js'],
  outdir: 'bundle.new',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['koffi'],
  // The CommonJS packages bundled (tar-stream, @iarna/toml) call require() for Node's modules.
  banner: { js: "import { createRequire as __tsbuildRequire } from 'node:module'; const require = __tsbuildRequire(import.meta.url);" },
  plugins: [ownUrl],
  logLevel: 'warning',
});
swapInDirectory(out);
compileSingleBinary({ cwd: dist, entry: 'src/entry.js', binary: path.join(dist, 'tsbuild') });
