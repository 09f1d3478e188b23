// The state of one container, or of every container under the state root, as runc reports them.
import fs from 'node:fs';
import os from 'node:os';
import { ContainerNotFoundError } from '../state/errors.js';
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
    } catch (err) {
      // Removed by a concurrent delete between readdir and load: not listed, as runc.
      if (!(err instanceof ContainerNotFoundError)) throw err;
    }
  }
  return states;
}
