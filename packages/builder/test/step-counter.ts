// Which RUN steps ran, counted by the steps themselves: each appends its word to a file in a
// cache mount, which lives in the store that ran the step, so a step served from a cache leaves
// no word in the store of the build that used it.
import fs from 'node:fs';
import path from 'node:path';

/** A RUN step that counts itself under `word`, then runs `then` (" && ..."). */
export const counted = (word: string, then: string) => `RUN --mount=type=cache,id=counter,target=/counter echo ${word} >> /counter/runs${then}`;

/** The words of the counted steps that ran with the store at `root`, sorted (stages run side by side). */
export function runsIn(root: string): string {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
      else if (entry.name === 'runs') found.push(fs.readFileSync(path.join(dir, entry.name), 'utf8'));
    }
  };
  walk(path.join(root, 'cache-mounts'));
  return found.join('').split('\n').filter(Boolean).sort().join(' ');
}
