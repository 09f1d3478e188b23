// tsbuild's configuration file, TOML at $TSBUILD_CONFIG or /etc/tsbuild/tsbuild.toml, as BuildKit
// has buildkitd.toml: the store's root, the cache's size, the RUN snapshotter, and per registry
// host how to reach it. Read where each setting is used (the store, the registry client), so it
// sits below both.
import fs from 'node:fs';
import TOML from '@iarna/toml';

export interface ConfigFile {
  root?: string;
  cache?: { max_size?: string };
  run?: { snapshotter?: string };
  /** [registry."HOST"] tables, checked by registry/hosts.ts. */
  registry?: Record<string, unknown>;
}

/** The configuration file's settings; none when there is no file. */
export function readConfig(): ConfigFile {
  const file = process.env.TSBUILD_CONFIG ?? '/etc/tsbuild/tsbuild.toml';
  if (!fs.existsSync(file)) return {};
  try {
    return TOML.parse(fs.readFileSync(file, 'utf8')) as ConfigFile;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}
