// `tsrunc list`'s table, as runc prints it.
import type { ContainerState } from '../index.js';

/** runc's tabwriter table: each column as wide as its widest cell plus three spaces, twelve at least. */
export function formatTable(states: ContainerState[]): string {
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
    ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
  const widths = rows[0]!.map((_, col) => Math.max(12, ...rows.map((r) => r[col]!.length + 3)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('')).join('\n') + '\n';
}
