// --build-context NAME=VALUE, as docker buildx takes it: NAME, wherever FROM, COPY --from or RUN
// --mount from= names it (and no stage is so named), is what VALUE names. docker-image://REF is
// an image of the store or a registry, oci-layout://DIR[:TAG] one of a layout on disk; anything
// else is a local directory, read as the build context is (without what its .dockerignore leaves
// out), as BuildKit takes a local named context: COPY --from and RUN --mount from= read its files,
// FROM starts from them (an image with no configuration of its own, as from scratch).
import fs from 'node:fs';
import path from 'node:path';

const IMAGE_SCHEMES = ['docker-image://', 'oci-layout://'];

export interface BuildContexts {
  /** The image references FROM takes for the names (oci-layout:// kept whole, as FROM takes it). */
  images: Record<string, string>;
  /** Local directories, absolute. */
  directories: Record<string, string>;
}

export function parseBuildContexts(list: string[] = []): BuildContexts {
  const contexts: BuildContexts = { images: {}, directories: {} };
  for (const item of list) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? '' : item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (name === '' || value === '') throw new Error(`--build-context ${item}: expected NAME=docker-image://REF, NAME=oci-layout://DIR or NAME=DIR`);
    const scheme = IMAGE_SCHEMES.find((s) => value.startsWith(s));
    if (scheme === undefined) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) throw new Error(`--build-context ${item}: only docker-image://, oci-layout:// and local directories are supported`);
      const dir = path.resolve(value);
      if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`--build-context ${item}: ${dir} is not a directory`);
      contexts.directories[name] = dir;
      continue;
    }
    const rest = value.slice(scheme.length);
    if (rest === '') throw new Error(`--build-context ${item}: the image is missing`);
    contexts.images[name] = scheme === 'docker-image://' ? rest : value;
  }
  return contexts;
}
