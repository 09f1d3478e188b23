// .dockerignore: Go filepath.Match patterns with "**" and "!" exceptions, the last matching
// pattern deciding; a pattern that matches a directory excludes everything below it.
import fs from 'node:fs';
import path from 'node:path';

interface Rule {
  regex: RegExp;
  exclude: boolean;
}

/** One pattern path segment to a regex: * and ? never cross "/", [...] classes as in Go. */
function segmentRegex(segment: string): string {
  if (segment === '**') return '.*';
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) throw new Error(`.dockerignore: unterminated [ in "${segment}"`);
      out += '[' + segment.slice(i + 1, end).replace(/^\^/, '^').replace(/\\/g, '\\\\') + ']';
      i = end;
    } else if (c === '\\' && i + 1 < segment.length) {
      out += segment[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

export function compilePattern(pattern: string): RegExp {
  const clean = path.posix.normalize(pattern.replace(/^\/+/, '')).replace(/\/+$/, '');
  const parts = clean.split('/');
  let body = '';
  parts.forEach((segment, i) => {
    if (segment === '**') body += i === parts.length - 1 ? '.*' : '(?:.*/)?';
    else body += segmentRegex(segment) + (i < parts.length - 1 ? '/' : '');
  });
  return new RegExp(`^${body}$`);
}

export class IgnoreMatcher {
  private readonly rules: Rule[];

  constructor(patterns: string[]) {
    this.rules = patterns.map((p) => {
      const exclude = !p.startsWith('!');
      return { regex: compilePattern(exclude ? p : p.slice(1)), exclude };
    });
  }

  /** `rel`: a slash-separated path relative to the context root. */
  ignores(rel: string): boolean {
    const parts = rel.split('/');
    let ignored = false;
    for (const rule of this.rules) {
      // A rule matches the path itself or any of its parent directories.
      for (let n = parts.length; n >= 1; n--) {
        if (rule.regex.test(parts.slice(0, n).join('/'))) {
          ignored = rule.exclude;
          break;
        }
      }
    }
    return ignored;
  }
}

function readPatterns(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Dockerfile.dockerignore next to the Dockerfile wins over the context's .dockerignore, as in BuildKit. */
export function loadIgnore(contextDir: string, dockerfile: string): IgnoreMatcher {
  const specific = `${dockerfile}.dockerignore`;
  const general = path.join(contextDir, '.dockerignore');
  if (fs.existsSync(specific)) return new IgnoreMatcher(readPatterns(specific));
  if (fs.existsSync(general)) return new IgnoreMatcher(readPatterns(general));
  return new IgnoreMatcher([]);
}
