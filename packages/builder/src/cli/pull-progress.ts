// A registry download as the build's progress shows it: a vertex per image, with a line per blob
// as BuildKit prints them ("sha256:4abcf2066143 10.5MB / 28.2MB", then "... done"), at most one
// line every two seconds per blob while it arrives, so a long download shows it is moving.
import type { Progress } from '../engine/progress.js';
import type { PullWatcher } from '../registry/pull.js';
import { humanSize } from './format.js';

const LINE_INTERVAL_MS = 2000;

export function pullProgress(progress: Progress): (image: string) => PullWatcher {
  return (image) => {
    const step = progress.step(`pulling ${image}`);
    const lastLine = new Map<string, number>();
    const finished = new Set<string>();
    return {
      blob(digest, received, total) {
        const now = Date.now();
        const complete = received >= total;
        if (finished.has(digest) || (!complete && now - (lastLine.get(digest) ?? 0) < LINE_INTERVAL_MS)) return;
        lastLine.set(digest, now);
        if (complete) finished.add(digest);
        step.log(`${digest.slice(0, 19)} ${humanSize(received)} / ${humanSize(total)}${complete ? ' done' : ''}`);
      },
      done: () => step.done(),
      failed: (message) => step.error(message),
    };
  };
}
