// What a build step produces: the image config so far and its layers, bottom first.
import type { Descriptor, ImageConfig } from '@tsrunc/spec-schemas';
import { hostArchitecture } from '../registry/platform.js';

export interface Layer {
  descriptor: Descriptor;
  diffId: string;
  /**
   * When the build step that made this layer completed (a base image's layers have none): the
   * time its history entry carries. It is kept with the step's cache entry, so that a rebuild from
   * the cache gives the same history, and the same image, as BuildKit's does.
   */
  created?: string;
}

export interface ImageState {
  config: ImageConfig;
  layers: Layer[];
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// build.ts takes the host's architecture from here, beside the images' state.

/** FROM scratch: no layers, and the PATH BuildKit gives an image that has none. */
export function scratchImage(): ImageState {
  return {
    config: {
      architecture: hostArchitecture(),
      os: 'linux',
      config: { Env: [DEFAULT_PATH] },
      rootfs: { type: 'layers', diff_ids: [] },
      history: [],
    },
    layers: [],
  };
}

/** The value of `name` in an Env list ("NAME=value"), the last one winning. */
export function envValue(env: string[] | null | undefined, name: string): string | undefined {
  return (env ?? []).findLast((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** An Env list as a map by name, the last one winning, for lookups that do not scan the list. */
export function envMap(env: string[] | null | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) map.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return map;
}

/**
 * Sets `name` in `env` (in place) and in its map `known`: a new name is appended; a name already
 * set keeps its place, its first entry replaced, as BuildKit's addEnv does (the only case that
 * has to scan the list).
 */
export function setEnv(env: string[], known: Map<string, string>, name: string, value: string): void {
  const at = known.has(name) ? env.findIndex((e) => e.startsWith(`${name}=`)) : -1;
  if (at >= 0) env[at] = `${name}=${value}`;
  else env.push(`${name}=${value}`);
  known.set(name, value);
}
