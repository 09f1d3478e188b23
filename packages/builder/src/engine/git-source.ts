// ADD of a git repository (`https://host/repo.git#ref:subdir`, `git@host:repo.git`, `git://...`),
// or a build context given as one (`tsbuild build URL`), checked out with the git command at the ref asked for (a branch, a tag or a commit; the remote's
// HEAD without one), shallowly, without its .git directory unless --keep-git-dir=true. Its files
// are then a source root like the context, whose contents go into the destination directory.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { existingPathInRoot } from './in-root.js';

// BuildKit's transports: http(s), ssh and git, nothing local (file://, a path) nor git's ext::.
const GIT = /^git@[^:]+:|^(?:git|ssh):\/\/|^https?:\/\/[^#]*\.git(#.*)?$/i;
/** What git itself may use, redirects and alternates included: never the build host's files. */
const ALLOWED_PROTOCOLS = 'http:https:ssh:git';

export function isGitSource(word: string): boolean {
  return GIT.test(word);
}

export interface GitCheckout {
  /** The checked-out tree (its subdirectory, if the URL named one). */
  dir: string;
  commit: string;
}

/** `what` names the source in errors: "ADD URL", "build context URL". */
function git(args: string[], cwd: string, what: string): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS } });
  if (r.error) throw new Error(`${what}: git: ${r.error.message} (install git)`);
  if (r.status !== 0) throw new Error(`${what}: git ${args[0]}: ${r.stderr.trim().split('\n').pop()}`);
  return r.stdout.trim();
}

export function checkoutGit(word: string, into: string, keepGitDir: boolean, what = `ADD ${word}`): GitCheckout {
  const hash = word.indexOf('#');
  const url = hash < 0 ? word : word.slice(0, hash);
  const [ref = '', subdir = ''] = hash < 0 ? [] : word.slice(hash + 1).split(':');
  fs.mkdirSync(into, { recursive: true });
  git(['init', '-q'], into, what);
  // After "--": a URL or ref starting with "-" is never taken for an option (--upload-pack=...).
  git(['fetch', '-q', '--depth', '1', '--', url, ref || 'HEAD'], into, what);
  git(['-c', 'advice.detachedHead=false', 'checkout', '-q', 'FETCH_HEAD'], into, what);
  const commit = git(['rev-parse', 'HEAD'], into, what);
  if (!keepGitDir) fs.rmSync(path.join(into, '.git'), { recursive: true, force: true });
  // Resolved inside the checkout: a symlink in the repository cannot lead to the host's files.
  const found = existingPathInRoot(into, subdir);
  const dir = found === undefined ? undefined : path.join(into, found);
  if (dir === undefined || !fs.statSync(dir).isDirectory()) throw new Error(`${what}: ${subdir} is not a directory of the repository`);
  return { dir, commit };
}
