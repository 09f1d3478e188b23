// OOM notification by polling. v1's eventfd interface (cgroup.event_control) needs an
// eventfd read loop that Node's event loop cannot drive cheaply, so both versions poll the
// kernel's oom_kill counter instead (memory.oom_control on v1, memory.events on v2).
import { parseFlatKeyed, readOptional } from './files.js';

const POLL_MS = 200;

/**
 * Calls onOom once per new OOM kill counted in `file` of `dir`. Stops by itself when the
 * cgroup disappears; the returned function stops it earlier.
 */
export function pollOomKills(dir: string, file: string, onOom: () => void): () => void {
  const count = (): number | undefined => {
    const text = readOptional(dir, file);
    return text === undefined ? undefined : (parseFlatKeyed(text)['oom_kill'] ?? 0);
  };
  let seen = count() ?? 0;
  const timer = setInterval(() => {
    let now: number | undefined;
    try {
      now = count();
    } catch {
      now = undefined; // the cgroup is being torn down
    }
    if (now === undefined) {
      clearInterval(timer);
      return;
    }
    for (; seen < now; seen++) onOom();
  }, POLL_MS);
  return () => clearInterval(timer);
}
