// COPY and ADD of local files: sources matched in the build context (or in another stage's
// filesystem) and laid out under the destination in a staging tree, which becomes the layer.
// Nothing is read outside the source root: paths are cleaned lexically and symlinks are copied
// as symlinks, never followed.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { compilePattern, IgnoreMatcher } from './ignore.js';

export interface SourceRoot {
  dir: string;
  ignore: IgnoreMatcher;
  /** Name for errors: "build context" or `stage "builder"`. */
  label: string;
}

export interface CopyPlan {
  /** [path relative to the source root, destination path in the image] per top-level match. */
  entries: { from: string; to: string }[];
}

const WILDCARD = /[*?[]/;

function walk(root: string, rel: string, ignore: IgnoreMatcher, out: string[]): void {
  for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
    const child = rel ? `${rel}/${name}` : name;
    if (ignore.ignores(child)) continue;
    out.push(child);
    if (fs.lstatSync(path.join(root, child)).isDirectory()) walk(root, child, ignore, out);
  }
}

/** Source words to the matching paths of the root, relative to it. */
function matchSources(source: SourceRoot, words: string[]): string[] {
  const matches: string[] = [];
  let all: string[] | undefined;
  for (const word of words) {
    const clean = path.posix.normalize('/' + word).slice(1).replace(/\/+$/, '');
    if (WILDCARD.test(clean)) {
      all ??= (() => { const list: string[] = []; walk(source.dir, '', source.ignore, list); return list; })();
      const regex = compilePattern(clean);
      const found = all.filter((p) => regex.test(p));
      if (found.length === 0) throw new Error(`COPY: no source files were specified: "${word}" matches nothing in the ${source.label}`);
      matches.push(...found);
    } else {
      if ((clean !== '' && source.ignore.ignores(clean)) || !fs.existsSync(path.join(source.dir, clean)) && !isSymlink(path.join(source.dir, clean))) {
        throw new Error(`COPY: "${word}": not found in the ${source.label}${clean !== '' && source.ignore.ignores(clean) ? ' (excluded by .dockerignore)' : ''}`);
      }
      matches.push(clean);
    }
  }
  return matches;
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Docker's destination rules: a destination ending in "/" or taking several sources is a
 * directory; a directory source copies its contents; a file source to a plain destination is
 * renamed to it.
 */
export function planCopy(source: SourceRoot, words: string[], dest: string): CopyPlan {
  const matches = matchSources(source, words);
  const destIsDir = dest.endsWith('/') || matches.length > 1;
  const destClean = path.posix.normalize(dest);
  const entries = matches.map((from) => {
    const stat = fs.lstatSync(path.join(source.dir, from));
    if (stat.isDirectory()) return { from, to: destClean };
    return { from, to: destIsDir ? path.posix.join(destClean, path.posix.basename(from)) : destClean };
  });
  return { entries };
}

export interface Ownership {
  uid: number;
  gid: number;
}

/** The content digest of everything a plan reads: paths, modes, link targets and file bytes, never times. */
export function planDigest(source: SourceRoot, plan: CopyPlan): string {
  const hash = createHash('sha256');
  const visit = (rel: string): void => {
    const full = path.join(source.dir, rel);
    const stat = fs.lstatSync(full);
    hash.update(`${rel}\0${stat.mode}\0`);
    if (stat.isSymbolicLink()) hash.update(fs.readlinkSync(full));
    else if (stat.isFile()) hash.update(fs.readFileSync(full));
    else if (stat.isDirectory()) {
      for (const name of fs.readdirSync(full).sort()) {
        const child = rel ? `${rel}/${name}` : name;
        if (!source.ignore.ignores(child)) visit(child);
      }
    }
    hash.update('\n');
  };
  for (const entry of plan.entries) {
    hash.update(`=> ${entry.to}\n`);
    visit(entry.from);
  }
  return `sha256:${hash.digest('hex')}`;
}

function copyNode(from: string, to: string, owner: Ownership, chmod: number | undefined, source: SourceRoot, rel: string): void {
  const stat = fs.lstatSync(from);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  if (stat.isSymbolicLink()) {
    fs.rmSync(to, { force: true });
    fs.symlinkSync(fs.readlinkSync(from), to);
  } else if (stat.isDirectory()) {
    fs.mkdirSync(to, { recursive: true });
    for (const name of fs.readdirSync(from).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (!source.ignore.ignores(child)) copyNode(path.join(from, name), path.join(to, name), owner, chmod, source, child);
    }
    fs.chmodSync(to, chmod ?? stat.mode & 0o7777);
  } else if (stat.isFile()) {
    fs.copyFileSync(from, to);
    fs.chmodSync(to, chmod ?? stat.mode & 0o7777);
  } else {
    throw new Error(`COPY: ${rel}: only files, directories and symlinks can be copied`);
  }
  fs.lchownSync(to, owner.uid, owner.gid);
  fs.lutimesSync(to, stat.atime, stat.mtime);
}

/** Lays the plan out under `staging` (the future layer's root). */
export function stageCopy(source: SourceRoot, plan: CopyPlan, staging: string, owner: Ownership, chmod?: number): void {
  for (const entry of plan.entries) {
    copyNode(path.join(source.dir, entry.from), path.join(staging, entry.to), owner, chmod, source, entry.from);
  }
}

/** COPY <<EOF /dest: each heredoc becomes a file named after its delimiter, or the destination itself. */
export function stageHeredocs(heredocs: { name: string; content: string }[], dest: string, staging: string, owner: Ownership, chmod?: number): void {
  const destIsDir = dest.endsWith('/') || heredocs.length > 1;
  for (const doc of heredocs) {
    const target = path.join(staging, destIsDir ? path.posix.join(dest, doc.name) : dest);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, doc.content, { mode: chmod ?? 0o644 });
    if (chmod !== undefined) fs.chmodSync(target, chmod);
    fs.chownSync(target, owner.uid, owner.gid);
  }
}
