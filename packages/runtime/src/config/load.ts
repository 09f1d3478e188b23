// config.json of a bundle: read, parsed and validated against the runtime-spec schema, with the
// few rules a schema cannot say. Nothing is touched on the host until this has passed.
import fs from 'node:fs';
import path from 'node:path';
import { parseRuntimeConfig, type Spec } from '@tsrunc/spec-schemas';

export interface Bundle {
  dir: string;
  rootfs: string;
  config: Spec;
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
  const parsed = parseRuntimeConfig(text, 'config.json');
  if (!parsed.ok) throw new Error(parsed.error);
  const config = parsed.value;
  if (!config.process) throw new Error('config.json: process is required to create a container');
  if (!config.root) throw new Error('config.json: root is required to create a container');
  const rootfs = path.resolve(dir, config.root.path);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(rootfs);
  } catch {
    throw new Error(`rootfs (${rootfs}) does not exist`);
  }
  if (!stat.isDirectory()) throw new Error(`rootfs (${rootfs}) is not a directory`);
  return { dir, rootfs, config };
}
