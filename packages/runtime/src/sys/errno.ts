// errno numbers to names and messages, from Node's own table (os.constants.errno) so that
// no list is kept by hand.
import os from 'node:os';
import util from 'node:util';

export const constants: ReadonlyMap<number, string> = new Map(
  Object.entries(os.constants.errno).map(([name, num]) => [num, name]),
);

/** The C library's message for an errno, as libuv reports it. */
export function strerror(errno: number): string {
  const name = constants.get(errno);
  if (!name) return `errno ${errno}`;
  const entry = util.getSystemErrorMap().get(-errno);
  return entry ? entry[1] : name;
}
