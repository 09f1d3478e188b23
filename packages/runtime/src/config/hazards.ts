// What config.json can hold that the schema cannot refuse and that would otherwise fail late and
// obscurely: nesting deep enough to overflow the stack of the recursive code that handles the
// document, and NUL bytes in strings that reach the kernel as C strings, cut short at the NUL.

/** The limit of Go's encoding/json, so that tsrunc and runc refuse the same documents. */
const MAX_NESTING = 10000;

const OPEN_BRACE = 0x7b, OPEN_BRACKET = 0x5b, CLOSE_BRACE = 0x7d, CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22, BACKSLASH = 0x5c;

/**
 * One pass over the text, counting the brackets outside strings, before anything recursive sees
 * it. Malformed text is left for JSON.parse to describe.
 */
export function checkNesting(text: string, source: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > MAX_NESTING) throw new Error(`${source}: nesting deeper than ${MAX_NESTING}`);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
}

/** "process.env[1]", "linux.sysctl[\"kernel.shmmax\"]": where a value is, as the error names it. */
function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Every string of the document, keys included, must be free of NUL: args, env, paths, hostname,
 * sysctl and mount options all end up as C strings, where "a\0b" silently becomes "a". Annotations
 * are opaque data that only travel as JSON (the state, the hooks' stdin), so they may hold any.
 * The walk keeps its own stack: the document may be nested up to MAX_NESTING deep.
 */
export function checkNoNul(document: unknown, source: string): void {
  const stack: { value: unknown; at: string }[] = [{ value: document, at: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, at } = item;
    if (typeof value === 'string') {
      if (value.includes('\0')) throw new Error(`${source}: ${at} contains a NUL byte`);
    } else if (Array.isArray(value)) {
      value.forEach((element, i) => stack.push({ value: element, at: childPath(at, i) }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, element] of Object.entries(value)) {
        const elementAt = childPath(at, key);
        if (key.includes('\0')) throw new Error(`${source}: a key of ${at || 'the document'} contains a NUL byte`);
        if (elementAt !== 'annotations') stack.push({ value: element, at: elementAt });
      }
    }
  }
}
