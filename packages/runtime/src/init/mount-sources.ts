// The init stage's side of container/mount-sources.ts: the bind mount sources tsrunc opened for
// it, received as fds over the sync socket. Asked for once the plan is read, so that nothing else
// is in flight on the socket: a plain read(2) would drop fds that arrived with its bytes.
import { recvFd } from '../console/socket.js';
import { SYNC_FD } from '../launch/stage.js';
import type { FromStage } from './protocol.js';
import type { SyncChannel } from './sync-channel.js';

/** The plan's mount index -> the fd of its source (close-on-exec), for each index of `indexes`. */
export function receiveMountSources(channel: SyncChannel, indexes: number[]): Map<number, number> {
  const sources = new Map<number, number>();
  if (indexes.length === 0) return sources;
  channel.send({ type: 'mountSources' } satisfies FromStage);
  for (const index of indexes) {
    const { fd, name } = recvFd(SYNC_FD);
    sources.set(index, fd);
    if (name !== String(index)) throw new Error(`init: expected the source of mount #${index}, got "${name}"`);
  }
  return sources;
}
