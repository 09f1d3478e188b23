// libc functions bound through Bun's own FFI (bun:ffi), where the engine is Bun and the C
// declaration has only scalars, buffers and strings. Loading koffi costs ~17 ms of CPU under Bun
// and bun:ffi ~0.6 ms (bench/runtime.mjs's engine figures); `start` and `delete` make one flock
// call, and a tsrunc call's start-up is the product. Declarations with structs, in/out arrays or
// async calls stay with koffi (libc.ts), which also serves Node.

/** The part of bun:ffi used here (its types come with Bun, which the project does not compile against). */
interface FfiModule {
  dlopen(path: string, symbols: Record<string, { args: FfiType[]; returns: FfiType }>): { symbols: Record<string, (...args: unknown[]) => unknown> };
  read: { i32(pointer: number, offset: number): number };
  ptr(view: ArrayBufferView): number;
}
type FfiType = 'i32' | 'u32' | 'i64_fast' | 'u64_fast' | 'ptr' | 'void';

/** C types of the declarations we bind this way, as bun:ffi names them. */
const SCALARS: Record<string, FfiType> = {
  int: 'i32', 'unsigned int': 'u32', uint32_t: 'u32', long: 'i64_fast', 'unsigned long': 'u64_fast',
  size_t: 'u64_fast', uint64_t: 'u64_fast', void: 'void',
};
const POINTERS = new Set(['void *', 'const void *', 'const char *', 'const char **']);

interface ParsedDeclaration {
  name: string;
  returns: FfiType;
  args: FfiType[];
  /** How each argument is passed: as it is, a C string from a JS string, a NULL-ended array of C strings from a JS array. */
  kinds: ('value' | 'string' | 'strings')[];
}

/** "int mount(const char *source, ...)" to bun:ffi types; undefined for what bun:ffi cannot take as koffi does. */
function parse(declaration: string): ParsedDeclaration | undefined {
  const match = /^\s*([\w ]+?)\s+(\w+)\s*\((.*)\)\s*$/.exec(declaration);
  if (!match) return undefined;
  const returns = SCALARS[match[1]!];
  if (returns === undefined) return undefined;
  const params = match[3]!.trim() === 'void' ? [] : match[3]!.split(',').map((p) => p.trim().replace(/\s*\w+$/, '').replace(/\s*\*/g, '*').replace(/\*+$/, (stars) => ` ${stars}`));
  const args: FfiType[] = [];
  for (const type of params) {
    if (POINTERS.has(type)) args.push('ptr');
    else if (SCALARS[type] !== undefined && type !== 'void') args.push(SCALARS[type]);
    else return undefined;
  }
  const kinds = params.map((t): ParsedDeclaration['kinds'][number] => (t === 'const char *' ? 'string' : t === 'const char **' ? 'strings' : 'value'));
  return { name: match[2]!, returns, args, kinds };
}

function cString(text: string): Buffer {
  return Buffer.from(`${text}\0`);
}

/** A JS array of strings (null as the end marker) as a C array of char pointers; `keep` holds the strings alive. */
function cStringArray(items: (string | null)[], keep: Buffer[]): BigUint64Array {
  return BigUint64Array.from(items, (item) => {
    if (item === null) return 0n;
    const text = cString(item);
    keep.push(text);
    return BigInt(ffi!.ptr(text));
  });
}

const ffi = process.versions.bun !== undefined ? (process.getBuiltinModule('bun:ffi') as FfiModule | undefined) : undefined;
let errnoLocation: (() => number) | undefined;
/** errno as the last call through here left it, read before anything else can change it. */
let savedErrno = 0;

function readErrno(): number {
  if (!errnoLocation) {
    const lib = ffi!.dlopen('libc.so.6', { __errno_location: { args: [], returns: 'ptr' } });
    errnoLocation = lib.symbols.__errno_location as () => number;
  }
  return ffi!.read.i32(errnoLocation(), 0);
}

export function lastFfiErrno(): number {
  return savedErrno;
}

/**
 * The function bound through bun:ffi, or undefined where the engine is not Bun or the declaration
 * needs koffi. Strings are passed NUL-terminated, null as NULL, string arrays as char pointer
 * arrays, as koffi passes them.
 */
export function bindWithBunFfi(declaration: string): ((...args: unknown[]) => unknown) | undefined {
  if (!ffi) return undefined;
  const parsed = parse(declaration);
  if (!parsed) return undefined;
  let fn: ((...args: unknown[]) => unknown) | undefined;
  return (...args: unknown[]) => {
    fn ??= ffi.dlopen('libc.so.6', { [parsed.name]: { args: parsed.args, returns: parsed.returns } }).symbols[parsed.name]!;
    const keep: Buffer[] = [];
    const converted = args.map((arg, i) => {
      const kind = parsed.kinds[i];
      if (kind === 'string' && typeof arg === 'string') return cString(arg);
      if (kind === 'strings' && Array.isArray(arg)) return cStringArray(arg as (string | null)[], keep);
      return arg;
    });
    const result = fn(...converted);
    savedErrno = readErrno();
    return result;
  };
}
