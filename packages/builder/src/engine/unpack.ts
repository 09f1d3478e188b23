// `tsbuild unpack REF BUNDLE`: an image of the local store as an OCI runtime bundle (rootfs and
// config.json) that tsrunc or runc runs, the process taken from the image config.
import fs from 'node:fs';
import path from 'node:path';
import type { ImageConfig } from '@tsrunc/spec-schemas';
import { defaultSpec } from '@tsrunc/runtime/container/spec-template';
import { extractLayer } from '../image/layer-reader.js';
import { DEFAULT_PATH } from './image-state.js';
import { normalizeReference, type BuilderStore } from './store-root.js';

/** USER "name[:group]" or "uid[:gid]" to numbers, names looked up in the rootfs' passwd and group files. */
function resolveUser(rootfs: string, user: string): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const [name = '', group] = user.split(':');
  const table = (file: string) => {
    try {
      return fs.readFileSync(path.join(rootfs, file), 'utf8').split('\n').map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  const passwd = table('etc/passwd').find((f) => f[0] === name || f[2] === name);
  const uid = /^\d+$/.test(name) ? Number(name) : passwd ? Number(passwd[2]) : NaN;
  if (Number.isNaN(uid)) throw new Error(`unable to find user ${name}: no matching entries in passwd file`);
  let gid = passwd ? Number(passwd[3]) : 0;
  if (group !== undefined) {
    const entry = table('etc/group').find((f) => f[0] === group || f[2] === group);
    gid = /^\d+$/.test(group) ? Number(group) : entry ? Number(entry[2]) : NaN;
    if (Number.isNaN(gid)) throw new Error(`unable to find group ${group}: no matching entries in group file`);
  }
  return { uid, gid };
}

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
  for (const layer of manifest.layers) await extractLayer(fs.createReadStream(store.layout.blobs.path(layer.digest)), rootfs);
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
