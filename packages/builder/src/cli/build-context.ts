// --build-context NAME=VALUE, as docker buildx takes it: NAME, wherever FROM or COPY --from names
// it (and no stage is so named), is the image VALUE names. docker-image://REF is an image of the
// store or a registry, oci-layout://DIR[:TAG] one of a layout on disk; a local directory as a
// named context is not supported and is refused by name.

const IMAGE_SCHEMES = ['docker-image://', 'oci-layout://'];

/** The names and the image references FROM takes for them (oci-layout:// kept whole, as FROM takes it). */
export function parseBuildContexts(list: string[] = []): Record<string, string> {
  const contexts: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? '' : item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (name === '' || value === '') throw new Error(`--build-context ${item}: expected NAME=docker-image://REF or NAME=oci-layout://DIR`);
    const scheme = IMAGE_SCHEMES.find((s) => value.startsWith(s));
    if (!scheme) throw new Error(`--build-context ${item}: only docker-image:// and oci-layout:// contexts are supported, not a local directory`);
    const rest = value.slice(scheme.length);
    if (rest === '') throw new Error(`--build-context ${item}: the image is missing`);
    contexts[name] = scheme === 'docker-image://' ? rest : value;
  }
  return contexts;
}
