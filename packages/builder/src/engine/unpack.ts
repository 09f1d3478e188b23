// `tsbuild unpack REF BUNDLE`: an image of the local store as an OCI runtime bundle (rootfs and
// config.json) that tsrunc or runc runs, the process taken from the image config. The rootfs is
// copied from the image's layer snapshots (extracted only where the store lacks them).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ImageConfig } from '@tsrunc/spec-schemas';
import { defaultSpec } from '@tsrunc/runtime';
import { DEFAULT_PATH } from './image-state.js';
import { RunExecutor } from './run-step.js';
import { baseState } from './stage-base.js';
import { normalizeReference, type BuilderStore } from './store-root.js';
import { resolveUser } from './user.js';

function processArgs(config: ImageConfig): string[] {
  const args = [...(config.config?.Entrypoint ?? []), ...(config.config?.Cmd ?? [])];
  if (args.length === 0) throw new Error('the image has neither Entrypoint nor Cmd: nothing to run');
  return args;
}

export async function unpackImage(store: BuilderStore, reference: string, bundle: string): Promise<void> {
  const { manifest, config } = store.layout.resolve(normalizeReference(reference));
  const rootfs = path.join(bundle, 'rootfs');
  if (fs.existsSync(path.join(bundle, 'config.json'))) throw new Error(`${bundle} already holds a bundle (config.json exists)`);
  fs.mkdirSync(rootfs, { recursive: true, mode: 0o755 });
  const images = new RunExecutor(store, 'auto');
  try {
    const image = (await images.filesystem(baseState(manifest, config, reference), 'image')).root;
    const copy = spawnSync('cp', ['-a', '--no-target-directory', image, rootfs], { encoding: 'utf8' });
    if (copy.status !== 0) throw new Error(`copy of the image into ${rootfs}: ${copy.stderr.trim()}`);
  } finally {
    images.close();
  }
  const spec = defaultSpec(false);
  const env = config.config?.Env ?? [];
  spec.process = {
    ...spec.process!,
    terminal: false,
    args: processArgs(config),
    env: env.some((e) => e.startsWith('PATH=')) ? env : [DEFAULT_PATH, ...env],
    cwd: config.config?.WorkingDir || '/',
    user: resolveUser(rootfs, config.config?.User ?? ''),
  };
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
}
