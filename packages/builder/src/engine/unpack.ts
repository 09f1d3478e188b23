// `tsbuild unpack REF BUNDLE`: an image of the local store as an OCI runtime bundle (rootfs and
// config.json) that tsrunc or runc runs, the process taken from the image config.
import fs from 'node:fs';
import path from 'node:path';
import type { ImageConfig } from '@tsrunc/spec-schemas';
import { defaultSpec } from '@tsrunc/runtime';
import { extractLayers } from '../image/layer-reader.js';
import { DEFAULT_PATH } from './image-state.js';
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
  await extractLayers(store.layout.blobs, manifest.layers.map((l) => l.digest), rootfs);
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
