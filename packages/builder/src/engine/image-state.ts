// What a build step produces: the image config so far and its layers, bottom first.
import type { Descriptor, ImageConfig } from '@tsrunc/spec-schemas';

export interface Layer {
  descriptor: Descriptor;
  diffId: string;
}

export interface ImageState {
  config: ImageConfig;
  layers: Layer[];
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const ARCHITECTURES: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

export function hostArchitecture(): string {
  return ARCHITECTURES[process.arch] ?? process.arch;
}

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

export function withEnv(env: string[] | null | undefined, name: string, value: string): string[] {
  return [...(env ?? []).filter((e) => !e.startsWith(`${name}=`)), `${name}=${value}`];
}
