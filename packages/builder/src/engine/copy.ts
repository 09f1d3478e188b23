// COPY and ADD of local files: sources matched in the build context (or in another stage's
// filesystem) and laid out under the destination in a staging tree, which becomes the layer.
// Nothing is read outside the source root: a source named in the Dockerfile is resolved inside
// it (a symlink followed as if the root were "/"), and symlinks below are copied as symlinks.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hashFileSync, type ContextHashes } from './context-hashes.js';
import { compilePattern, IgnoreMatcher } from './ignore.js';
import { existingPathInRoot } from './in-root.js';
import { OverlayOrigins } from './overlay-origin.js';
import type { PlanDigests } from './plan-digests.js';
import type { StagingTree } from './staging-tree.js';

export interface SourceRoot {
  dir: string;
  ignore: IgnoreMatcher;
  /** Name for errors: "build context" or `stage "builder"`. */
  label: string;
  /** The build context's file digests kept across builds (none: every file is read). */
  hashes?: ContextHashes;
  /**
   * An image's filesystem: the chain id of its layers, where plans' digests of it are kept, and
   * the directories `dir` shows (top first), from which a file copied unchanged is linked.
   */
  snapshot?: { chainId: string; plans: PlanDigests; lowers: readonly string[] };
}

export interface CopyEntry {
  /** The path relative to the source root. */
  from: string;
  /** The destination path in the image. */
  to: string;
  /** Where --exclude patterns are relative to: the directory named, or the one a file or wildcard is in. */
  base: string;
  /** A file copied to a plain destination: the name it takes there if the image has a directory at `to`. */
  nameInDirectory?: string;
}

export interface CopyPlan {
  entries: CopyEntry[];
  /** COPY --exclude patterns (none: an empty matcher). */
  exclude: IgnoreMatcher;
}

export interface CopyFlags {
  exclude?: string[];
  /** --parents: each source keeps its path (after a "/./" in the word, if any) under the destination. */
  parents?: boolean;
}

const WILDCARD = /[*?[]/;

/** Every path below `rel` that .dockerignore leaves in; an excluded directory is entered when a "!" may take something in it back. */
function walk(root: string, rel: string, ignore: IgnoreMatcher, out: string[]): void {
  for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
    const child = rel ? `${rel}/${name}` : name;
    const ignored = ignore.ignores(child);
    if (ignored && !ignore.mayTakeBackBelow(child)) continue;
    if (!ignored) out.push(child);
    if (fs.lstatSync(path.join(root, child)).isDirectory()) walk(root, child, ignore, out);
  }
}

/** Whether `rel` is there for the build: left in, or a directory left out that something taken back is in. */
const visibleIn = (ignore: IgnoreMatcher) => (rel: string) => !ignore.ignores(rel) || ignore.mayTakeBackBelow(rel);

interface Match {
  /** What is read, relative to the root. */
  path: string;
  base: string;
  /** What --parents keeps of the path as written: all of it, or what follows a "/./" in the word. */
  kept: string;
  /** The name it takes in a destination directory: its own, not that of a symlink's target. */
  name: string;
}

const cleanPath = (word: string) => path.posix.normalize('/' + word).slice(1).replace(/\/+$/, '');

/** Source words to the matching paths of the root, relative to it. */
function matchSources(source: SourceRoot, words: string[]): Match[] {
  const matches: Match[] = [];
  let all: string[] | undefined;
  for (const word of words) {
    const pivot = word.replace(/^\.\//, '').lastIndexOf('/./');
    const dropped = pivot < 0 ? '' : cleanPath(word.replace(/^\.\//, '').slice(0, pivot));
    const keep = (p: string) => (dropped === '' ? p : path.posix.relative(dropped, p));
    const clean = cleanPath(word);
    if (WILDCARD.test(clean)) {
      all ??= (() => { const list: string[] = []; walk(source.dir, '', source.ignore, list); return list; })();
      const regex = compilePattern(clean);
      const found = all.filter((p) => regex.test(p));
      if (found.length === 0) throw new Error(`COPY: no source files were specified: "${word}" matches nothing in the ${source.label}`);
      const segments = clean.split('/');
      const base = segments.slice(0, segments.findIndex((segment) => WILDCARD.test(segment))).join('/');
      matches.push(...found.map((p) => ({ path: p, base, kept: keep(p), name: path.posix.basename(p) })));
    } else {
      // Symlinks on the way, and a source that is one, are followed as BuildKit follows them,
      // but inside the source root, never out of it, and never to what .dockerignore leaves out.
      const found = existingPathInRoot(source.dir, clean, visibleIn(source.ignore));
      const ignored = clean !== '' && !visibleIn(source.ignore)(clean);
      if (ignored || found === undefined) {
        const why = ignored ? ' (excluded by .dockerignore)'
          : existingPathInRoot(source.dir, clean) !== undefined ? ' (a symlink on the way leads to what .dockerignore excludes)' : '';
        throw new Error(`COPY: "${word}": not found in the ${source.label}${why}`);
      }
      const isDir = fs.statSync(path.join(source.dir, found)).isDirectory();
      const base = isDir ? found : path.posix.dirname(found).replace(/^\.$/, '');
      matches.push({ path: found, base, kept: keep(clean), name: path.posix.basename(clean) || path.posix.basename(found) });
    }
  }
  return matches;
}

/**
 * Docker's destination rules: a destination ending in "/" or taking several sources is a
 * directory; a directory source copies its contents; a file source to a plain destination is
 * renamed to it, unless the image has a directory there (known only when staging: see
 * nameInDirectory). With --parents, every source keeps its path under the destination directory.
 */
export function planCopy(source: SourceRoot, words: string[], dest: string, flags: CopyFlags = {}): CopyPlan {
  const exclude = new IgnoreMatcher(flags.exclude ?? []);
  const matches = matchSources(source, words)
    .filter((m) => m.path === m.base || !exclude.ignores(relativeTo(m.base, m.path)));
  const destIsDir = dest.endsWith('/') || matches.length > 1 || flags.parents === true;
  const destClean = path.posix.normalize(dest);
  const entries = matches.map(({ path: from, base, kept, name }): CopyEntry => {
    if (flags.parents) return { from, to: path.posix.join(destClean, kept), base };
    const stat = fs.lstatSync(path.join(source.dir, from));
    if (stat.isDirectory()) return { from, to: destClean, base };
    return destIsDir ? { from, to: path.posix.join(destClean, name), base } : { from, to: destClean, base, nameInDirectory: name };
  });
  return { entries, exclude };
}

const relativeTo = (base: string, rel: string) => (base === '' ? rel : rel.slice(base.length + 1));

/**
 * What becomes of a path below an entry: kept; skipped, left out by .dockerignore (from the root)
 * or --exclude (from the entry's base); or searched, left out but a directory that a later "!"
 * pattern may take something back from, as BuildKit walks it.
 */
type Verdict = 'keep' | 'skip' | 'search';

function skipper(source: SourceRoot, plan: CopyPlan, entry: CopyEntry): (rel: string) => Verdict {
  return (rel) => {
    const fromBase = relativeTo(entry.base, rel);
    const ignored = source.ignore.ignores(rel);
    const excluded = plan.exclude.ignores(fromBase);
    if (!ignored && !excluded) return 'keep';
    const open = (!ignored || source.ignore.mayTakeBackBelow(rel)) && (!excluded || plan.exclude.mayTakeBackBelow(fromBase));
    return open ? 'search' : 'skip';
  };
}

/** The children of the directory `full` (at `rel`) that are copied: kept ones, and searched directories that hold a kept path. */
function includedChildren(full: string, rel: string, verdict: (rel: string) => Verdict): string[] {
  return fs.readdirSync(full).sort().filter((name) => {
    const child = rel ? `${rel}/${name}` : name;
    switch (verdict(child)) {
      case 'keep':
        return true;
      case 'skip':
        return false;
      case 'search':
        return fs.lstatSync(path.join(full, name)).isDirectory() && includedChildren(path.join(full, name), child, verdict).length > 0;
    }
  });
}

export interface Ownership {
  uid: number;
  gid: number;
}

/**
 * The content digest of everything a plan reads: paths, modes, link targets and the digests of
 * file bytes (streamed, or known from an earlier build by the file's stat), never times. Of an
 * image's filesystem, known from an earlier build by its layers and the plan, if it was read.
 */
export function planDigest(source: SourceRoot, plan: CopyPlan): string {
  const snapshot = source.snapshot;
  if (snapshot === undefined) return readPlanDigest(source, plan);
  const text = JSON.stringify([plan.entries, plan.exclude.patterns]);
  return snapshot.plans.digest(snapshot.chainId, text, () => readPlanDigest(source, plan));
}

function readPlanDigest(source: SourceRoot, plan: CopyPlan): string {
  const hash = createHash('sha256');
  const visit = (rel: string, verdict: (rel: string) => Verdict): void => {
    const full = path.join(source.dir, rel);
    const stat = fs.lstatSync(full, { bigint: true });
    hash.update(`${rel}\0${stat.mode}\0`);
    if (stat.isSymbolicLink()) hash.update(fs.readlinkSync(full));
    else if (stat.isFile()) hash.update(source.hashes ? source.hashes.digest(rel, full, stat) : hashFileSync(full));
    else if (stat.isDirectory()) {
      for (const name of includedChildren(full, rel, verdict)) visit(rel ? `${rel}/${name}` : name, verdict);
    }
    hash.update('\n');
  };
  for (const entry of plan.entries) {
    hash.update(`=> ${entry.to}\n`);
    visit(entry.from, skipper(source, plan, entry));
  }
  source.hashes?.save();
  return `sha256:${hash.digest('hex')}`;
}

/** What a copy of one plan entry carries down its tree. */
interface CopyWalk {
  tree: StagingTree;
  owner: Ownership;
  chmod: number | undefined;
  verdict: (rel: string) => Verdict;
  /** Where the source's files come from, when it is an image's filesystem: a file may be linked. */
  origins: OverlayOrigins | undefined;
}

/**
 * Copies `from` (at `rel` in the source) to `to`. The directory at the top of the copy (the
 * destination a directory's contents go into) keeps its owner and mode if it exists, else is
 * made as the destination's parents are (the step's owner, --chmod or 0755); those below it take
 * the source's, as BuildKit's copy does.
 */
function copyNode(walk: CopyWalk, from: string, to: string, rel: string, top: boolean): void {
  const { tree, owner, chmod } = walk;
  const stat = fs.lstatSync(from);
  const meta = { ...owner, mode: chmod ?? stat.mode & 0o7777, times: { atime: stat.atime, mtime: stat.mtime } };
  if (stat.isSymbolicLink()) tree.symlink(to, fs.readlinkSync(from), meta);
  else if (stat.isFile()) tree.copyFile(to, from, meta, walk.origins?.find(rel, stat));
  else if (stat.isDirectory()) {
    const existing = top ? tree.existingDirectory(to) : undefined;
    const at = existing ?? to;
    tree.directory(at, top ? undefined : meta, () => {
      for (const name of includedChildren(from, rel, walk.verdict)) {
        copyNode(walk, path.join(from, name), path.posix.join(at, name), rel ? `${rel}/${name}` : name, false);
      }
    });
  } else {
    throw new Error(`COPY: ${rel}: only files, directories and symlinks can be copied`);
  }
}

/** Lays the plan out in `tree` (the future layer). */
export function stageCopy(source: SourceRoot, plan: CopyPlan, tree: StagingTree, owner: Ownership, chmod?: number): void {
  const origins = source.snapshot && new OverlayOrigins(source.snapshot.lowers);
  for (const entry of plan.entries) {
    const to = stagedDestination(tree, entry.to, entry.nameInDirectory);
    copyNode({ tree, owner, chmod, verdict: skipper(source, plan, entry), origins }, path.join(source.dir, entry.from), to, entry.from, true);
  }
}

/** Where a file goes: onto an existing directory, into it under `name`, as BuildKit copies it. */
function stagedDestination(tree: StagingTree, to: string, name: string | undefined): string {
  if (name === undefined) return to;
  const dir = tree.existingDirectory(to);
  return dir === undefined ? to : path.posix.join(dir, name);
}

/** COPY <<EOF /dest: each heredoc becomes a file named after its delimiter, or the destination itself. */
export function stageHeredocs(heredocs: { name: string; content: string }[], dest: string, tree: StagingTree, owner: Ownership, chmod?: number): void {
  const destIsDir = dest.endsWith('/') || heredocs.length > 1;
  for (const doc of heredocs) {
    const to = destIsDir ? path.posix.join(dest, doc.name) : stagedDestination(tree, dest, doc.name);
    tree.writeFile(to, doc.content, { ...owner, mode: chmod ?? 0o644 });
  }
}
