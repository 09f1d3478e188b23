// config.json of a bundle: read, parsed and validated against the runtime-spec schema, with the
// few rules a schema cannot say. Nothing is touched on the host until this has passed.
import fs from 'node:fs';
import path from 'node:path';
import { parseRuntimeConfig, type Spec } from '@tsrunc/spec-schemas';
import { checkNesting, checkNoNul } from './hazards.js';

export interface Bundle {
  dir: string;
  /** The real path of the root filesystem: no symlink on the way. */
  rootfs: string;
  config: Spec;
}

/**
 * The rootfs as runc takes it: relative to the bundle's real directory, and then itself a real
 * path. A symlink there would be followed by every later step on the host's side, wherever it
 * pointed when each step ran.
 */
function resolveRootfs(dir: string, rootPath: string): string {
  const rootfs = path.resolve(fs.realpathSync(dir), rootPath);
  let real: string;
  try {
    real = fs.realpathSync(rootfs);
  } catch {
    throw new Error(`rootfs (${rootfs}) does not exist`);
  }
  if (real !== rootfs) throw new Error(`rootfs (${rootfs}) is a symlink or lies under one; give its real path`);
  if (!fs.statSync(rootfs).isDirectory()) throw new Error(`rootfs (${rootfs}) is not a directory`);
  return rootfs;
}

export function loadBundle(bundle: string): Bundle {
  const dir = path.resolve(bundle);
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`JSON specification file config.json not found in bundle ${dir}`);
    throw new Error(`read ${file}: ${(err as Error).message}`);
  }
  checkNesting(text, 'config.json');
  const parsed = parseRuntimeConfig(text, 'config.json');
  if (!parsed.ok) throw new Error(parsed.error);
  const config = parsed.value;
  checkNoNul(config, 'config.json');
  if (!config.process) throw new Error('config.json: process is required to create a container');
  if (!config.root) throw new Error('config.json: root is required to create a container');
  return { dir, rootfs: resolveRootfs(dir, config.root.path), config };
}
