// BuildKit writes an image's history with Go's fmt verbs (`CMD %q`, `HEALTHCHECK %q`); docker
// history shows those strings and tools compare them, so tsbuild renders values the same way.

const ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };

/** One code point as strconv.Quote writes it inside `quote` ('"' or "'"). */
function quoteCodePoint(cp: number, quote: string): string {
  const c = String.fromCodePoint(cp);
  if (c === quote || c === '\\') return `\\${c}`;
  if (ESCAPES[cp] !== undefined) return ESCAPES[cp];
  if (cp < 0x20 || cp === 0x7f) return `\\x${cp.toString(16).padStart(2, '0')}`;
  return c;
}

/** Go's %q of a string (strconv.Quote, for the printable and control characters Dockerfiles hold). */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) out += quoteCodePoint(c.codePointAt(0)!, '"');
  return `${out}"`;
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

/** Go's %q of an int: the character literal of that code point (2 -> '\x02'). */
export function goQuoteInt(n: number): string {
  return `'${quoteCodePoint(n, "'")}'`;
}

const UNITS: [number, string][] = [[1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];

/** A number with at most `digits` decimals, trailing zeros dropped, as Duration.String writes fractions. */
function fraction(value: number, unit: number, digits: number): string {
  const whole = Math.floor(value / unit);
  const rest = (value % unit).toString().padStart(digits, '0').replace(/0+$/, '');
  return rest ? `${whole}.${rest}` : `${whole}`;
}

/** Go's time.Duration.String of `ns` nanoseconds: "1m30s", "1.5s", "500ms", "0s". */
export function goDuration(ns: number): string {
  if (ns < 0) return `-${goDuration(-ns)}`;
  if (ns === 0) return '0s';
  if (ns < 1e9) {
    const [unit, name] = UNITS.find(([u]) => ns >= u)!;
    return `${fraction(ns, unit, Math.log10(unit))}${name}`;
  }
  const hours = Math.floor(ns / 3.6e12);
  const minutes = Math.floor((ns % 3.6e12) / 6e10);
  const seconds = `${fraction(ns % 6e10, 1e9, 9)}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  return minutes > 0 ? `${minutes}m${seconds}` : seconds;
}
