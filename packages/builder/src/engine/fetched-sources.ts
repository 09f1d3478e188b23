// The sources of an ADD that are fetched rather than read from the context: http(s) downloads
// and git checkouts, each a source root of its own in `dir` and planned like a local source, so
// that the destination rules, --exclude, --chown and --chmod are those of COPY.
import path from 'node:path';
import { planCopy, planDigest, type CopyPlan, type SourceRoot } from './copy.js';
import { checkoutGit, isGitSource } from './git-source.js';
import { IgnoreMatcher } from './ignore.js';
import { download, isRemoteSource } from './remote-source.js';

/** A word with a URL scheme; those ADD neither downloads nor clones are refused, not read as paths. */
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

export interface AddSources {
  urls: string[];
  repositories: string[];
  /** Paths in the build context (or in the stage of --from). */
  local: string[];
}

/**
 * ADD's sources by where they come from. A file:// URL (or any other scheme) would read the build
 * host's files, which only the context may give: BuildKit takes such a word for a context path,
 * which then names nothing; it is refused here with the reason.
 */
export function sortAddSources(words: string[]): AddSources {
  const sorted: AddSources = { urls: [], repositories: [], local: [] };
  for (const word of words) {
    if (isGitSource(word)) sorted.repositories.push(word);
    else if (isRemoteSource(word)) sorted.urls.push(word);
    else if (URL_SCHEME.test(word)) {
      throw new Error(`ADD ${word}: ${word.split(':')[0]!.toLowerCase()}:// sources are not supported: ADD takes local files from the build context only, and downloads http(s) and git URLs`);
    } else sorted.local.push(word);
  }
  return sorted;
}

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
