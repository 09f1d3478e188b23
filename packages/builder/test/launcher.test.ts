// bin/tsbuild runs as root, often in a project's checkout: nothing there or in the caller's
// environment may load code into it. Bun reads bunfig.toml (a preload) and .env from its working
// directory unless told not to, and BUN_OPTIONS (--preload) even in a compiled program.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { TSBUILD } from './project.js';

t.test('a bunfig.toml or BUN_OPTIONS does not load code into tsbuild, under each engine', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-launcher-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const marker = path.join(dir, 'preloaded');
  fs.writeFileSync(path.join(dir, 'preload.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
  fs.writeFileSync(path.join(dir, 'bunfig.toml'), 'preload = ["./preload.js"]\n');
  for (const engine of ['binary', 'bun', 'node']) {
    const r = spawnSync(TSBUILD, ['--help'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, TSBUILD_ENGINE: engine, BUN_OPTIONS: `--preload ${path.join(dir, 'preload.js')}` },
    });
    t.equal(r.status, 0, `${engine}: --help answers: ${r.stderr}`);
    t.notOk(fs.existsSync(marker), `${engine}: no preload ran`);
    fs.rmSync(marker, { force: true });
  }
});
