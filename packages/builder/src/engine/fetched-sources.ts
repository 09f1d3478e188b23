// The sources of an ADD that are fetched rather than read from the context: http(s) downloads
// and git checkouts, each a source root of its own in `dir` and planned like a local source, so
// that the destination rules, --exclude, --chown and --chmod are those of COPY.
import path from 'node:path';
import { planCopy, planDigest, type CopyPlan, type SourceRoot } from './copy.js';
import { checkoutGit } from './git-source.js';
import { IgnoreMatcher } from './ignore.js';
import { download } from './remote-source.js';

export interface FetchedSource {
  source: SourceRoot;
  plan: CopyPlan;
  /** What the step's cache key counts of it. */
  digest: string;
}

export interface FetchOptions {
  checksum: string | undefined;
  keepGitDir: boolean;
  exclude: string[];
  signal: AbortSignal | undefined;
}

export async function fetchSources(urls: string[], repositories: string[], dir: string, dest: string, o: FetchOptions): Promise<FetchedSource[]> {
  const fetched: FetchedSource[] = [];
  const add = (source: SourceRoot, words: string[], digestOf: (plan: CopyPlan) => string) => {
    const plan = planCopy(source, words, dest, { exclude: o.exclude });
    fetched.push({ source, plan, digest: digestOf(plan) });
  };
  if (urls.length > 0) {
    const downloads = await download(urls, path.join(dir, 'downloads'), o.checksum, o.signal);
    const source = { dir: downloads.dir, ignore: new IgnoreMatcher([]), label: 'downloads' };
    add(source, downloads.names, (plan) => planDigest(source, plan));
  }
  for (const [n, word] of repositories.entries()) {
    const checkout = checkoutGit(word, path.join(dir, `git-${n}`), o.keepGitDir);
    // A checkout counts by its commit: a kept .git differs from one fetch of it to the next.
    add({ dir: checkout.dir, ignore: new IgnoreMatcher([]), label: `git repository ${word}` }, [''], () => `git:${checkout.commit}`);
  }
  return fetched;
}
