// The Env of the images a Dockerfile's FROMs name, for the build checks: UndefinedVar knows a
// stage's variables only when it knows its base image's, which BuildKit reads from the image's
// config before it lints. Each comes from the store, else is pulled as the build would pull it.
import { loadBase } from '../engine/stage-base.js';
import type { BuilderStore } from '../engine/store-root.js';
import type { Puller } from '../registry/pull.js';

/** Each image's Env; an image that cannot be had has none: its stages go unchecked, and the build, not the checks, reports it. */
export async function imageEnvs(images: readonly string[], store: BuilderStore, registry: Puller): Promise<(image: string) => string[] | undefined> {
  const envs = new Map<string, string[]>();
  await Promise.all(images.map(async (image) => {
    try {
      envs.set(image, (await loadBase(store, image, registry)).state.config.config?.Env ?? []);
    } catch {
      // no such image, or its registry unreachable: left unknown
    }
  }));
  return (image) => envs.get(image);
}
