// Where tsbuild keeps its images, blobs and cache: --root, $TSBUILD_ROOT, `root` in the TOML
// configuration file ($TSBUILD_CONFIG or /etc/tsbuild/tsbuild.toml), or /var/lib/tsbuild.
import fs from 'node:fs';
import path from 'node:path';
import TOML from '@iarna/toml';
import { OciLayout } from '../image/layout.js';
import { BuildCache } from './cache.js';

export interface BuilderStore {
  root: string;
  /** The local image store: an OCI layout whose ref names are the tags ("name:tag"). */
  layout: OciLayout;
  cache: BuildCache;
}

interface ConfigFile {
  root?: string;
  cache?: { max_size?: string };
  run?: { snapshotter?: string };
}

export function readConfig(): ConfigFile {
  const file = process.env.TSBUILD_CONFIG ?? '/etc/tsbuild/tsbuild.toml';
  if (!fs.existsSync(file)) return {};
  try {
    return TOML.parse(fs.readFileSync(file, 'utf8')) as ConfigFile;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

export function storeRoot(flag?: string): string {
  return path.resolve(flag ?? process.env.TSBUILD_ROOT ?? readConfig().root ?? '/var/lib/tsbuild');
}

export async function openStore(root: string): Promise<BuilderStore> {
  fs.mkdirSync(root, { recursive: true });
  const layout = await OciLayout.open(path.join(root, 'layout'), { create: true });
  return { root, layout, cache: new BuildCache(path.join(root, 'cache', 'index.json')) };
}

/** "busybox" -> "busybox:latest"; names with a tag or digest are kept. */
export function normalizeReference(name: string): string {
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  return lastSegment.includes(':') || name.includes('@') ? name : `${name}:latest`;
}
