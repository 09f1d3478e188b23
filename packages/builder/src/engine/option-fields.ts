// The `key=value,key=value` values of tsbuild's output and cache flags (-o, --cache-from,
// --cache-to), split as buildx splits them: a field without '=' is a key with an empty value,
// which each flag's own checks then refuse or accept by name.
export function optionFields(text: string): Map<string, string> {
  return new Map(text.split(',').map((field): [string, string] => {
    const eq = field.indexOf('=');
    return eq < 0 ? [field, ''] : [field.slice(0, eq), field.slice(eq + 1)];
  }));
}
