// errno numbers to names and messages, from Node's own table (os.constants.errno) so that
// no list is kept by hand. Both modules are reached on the first error, not on import: under Bun,
// importing node:util costs ~5 ms of every tsrunc call's start-up, and most calls see no error.

let names: ReadonlyMap<number, string> | undefined;

/** The errno's name ('ENOENT'), or undefined for a number the platform does not define. */
export function errnoName(errno: number): string | undefined {
  names ??= new Map(Object.entries(process.getBuiltinModule('node:os').constants.errno).map(([name, num]) => [num, name]));
  return names.get(errno);
}

/** The C library's message for an errno, as libuv reports it. */
export function strerror(errno: number): string {
  const name = errnoName(errno);
  if (!name) return `errno ${errno}`;
  const entry = process.getBuiltinModule('node:util').getSystemErrorMap().get(-errno);
  return entry ? entry[1] : name;
}
