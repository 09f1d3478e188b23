// `tsrunc list` and `tsrunc state`, as runc prints them.
import fs from 'node:fs';
import os from 'node:os';
import { stateDocument, type RuncState } from '../state/status.js';
import type { RuntimeContext } from './context.js';
import { statusOf } from './status.js';

export function containerState(ctx: RuntimeContext, id: string): RuncState {
  const record = ctx.store.loadAny(id); // a container being created is shown too, as 'creating'
  return stateDocument(record, statusOf(ctx, record));
}

function ownerName(dir: string): string {
  const uid = fs.statSync(dir).uid;
  const entry = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.split(':')[2] === String(uid));
  return entry?.split(':')[0] ?? (uid === os.userInfo().uid ? os.userInfo().username : `#${uid}`);
}

export function listContainers(ctx: RuntimeContext): RuncState[] {
  const states: RuncState[] = [];
  for (const id of ctx.store.ids()) {
    try {
      states.push({ ...containerState(ctx, id), owner: ownerName(ctx.store.dir(id)) });
    } catch {
      // Removed by a concurrent delete between readdir and load: not listed, as runc.
    }
  }
  return states;
}

/** runc's tabwriter table: each column as wide as its widest cell plus three spaces, twelve at least. */
export function formatTable(states: RuncState[]): string {
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
    ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
  const widths = rows[0]!.map((_, col) => Math.max(12, ...rows.map((r) => r[col]!.length + 3)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('')).join('\n') + '\n';
}
