// .dockerignore: Go filepath.Match patterns with "**" and "!" exceptions, the last matching
// pattern deciding; a pattern that matches a directory excludes everything below it, unless a
// later "!" pattern takes something below it back, as BuildKit reads the file.
import fs from 'node:fs';
import path from 'node:path';

interface Rule {
  regex: RegExp;
  exclude: boolean;
  /** The cleaned pattern, without its "!". */
  pattern: string;
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;
const literal = (c: string) => c.replace(REGEX_SPECIAL, '\\$&');
const classLiteral = (c: string) => c.replace(/[\\\]\[^-]/g, '\\$&');

/**
 * Checks `pattern` against Go's filepath.Match syntax, which BuildKit enforces before using it:
 * a class is closed, holds at least one range, and names "-", "]" or "\" only escaped; an escape
 * is followed by a character.
 */
function checkSyntax(pattern: string): void {
  const chars = [...pattern];
  /** One class character at `i` (escaped or not); returns the index after it. */
  const classChar = (i: number): number => {
    const c = chars[i];
    if (c === undefined) throw new Error('unterminated [');
    if (c === '-' || c === ']') throw new Error(`"${c}" must be escaped inside [...]`);
    if (c !== '\\') return i + 1;
    if (chars[i + 1] === undefined) throw new Error('a "\\" ends the pattern');
    return i + 2;
  };
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\') {
      if (i + 1 >= chars.length) throw new Error('a "\\" ends the pattern');
      i++;
    } else if (c === '[') {
      let j = i + 1;
      if (chars[j] === '^') j++;
      let ranges = 0;
      while (chars[j] !== ']' || ranges === 0) {
        j = classChar(j);
        if (chars[j] === '-') j = classChar(j + 1);
        ranges++;
      }
      i = j;
    }
  }
}

/** A pattern relative to the root, without "." or ".." parts or a trailing "/". */
const cleanPattern = (pattern: string) => path.posix.normalize(pattern.replace(/^\/+/, '')).replace(/\/+$/, '');

/**
 * A pattern as a regex over slash-separated paths: `*` and `?` never cross "/", `[...]` as in
 * Go, `\` escapes. `**` matches any run of directories, itself inside a segment too (`a**\/b`
 * is "a", anything, then "b"), and eats the "/" after it; a leading `**` with nothing else
 * special is a suffix match (`**foo` matches "barfoo").
 */
export function compilePattern(pattern: string): RegExp {
  const clean = cleanPattern(pattern);
  checkSyntax(clean);
  const chars = [...clean];
  let body = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*' && chars[i + 1] === '*') {
      i++;
      if (chars[i + 1] === '/') i++;
      const suffixOnly = i === 1 && !/[*?[\]\\]/.test(chars.slice(2).join(''));
      body += i + 1 >= chars.length || suffixOnly ? '.*' : '(?:.*/)?';
    } else if (c === '*') body += '[^/]*';
    else if (c === '?') body += '[^/]';
    else if (c === '\\') body += literal(chars[++i]!);
    else if (c === '[') {
      // Already checked: ranges of one character or two joined by "-", then "]".
      body += '[';
      i++;
      if (chars[i] === '^') body += chars[i++];
      const take = (): string => classLiteral(chars[i] === '\\' ? chars[(i += 2) - 1]! : chars[i++]!);
      while (chars[i] !== ']') {
        body += take();
        if (chars[i] === '-') {
          i++;
          body += '-' + take();
        }
      }
      body += ']';
    } else body += literal(c);
  }
  return new RegExp(`^${body}$`, 'u');
}

export class IgnoreMatcher {
  private readonly rules: Rule[];

  /**
   * `where(i)` names pattern i in errors (".dockerignore:3"); a pattern of its own by default.
   * A lone "!" is refused, as BuildKit refuses it. `patterns` are kept as given: what the matcher
   * matches, as text.
   */
  constructor(readonly patterns: readonly string[], where: (index: number) => string = (i) => `pattern "${patterns[i]}"`) {
    this.rules = patterns.map((p, index) => {
      const exclude = !p.startsWith('!');
      const pattern = exclude ? p : p.slice(1);
      try {
        if (pattern === '') throw new Error('illegal exclusion pattern: "!"');
        return { regex: compilePattern(pattern), exclude, pattern: cleanPattern(pattern) };
      } catch (err) {
        throw new Error(`${where(index)}: ${(err as Error).message}`);
      }
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

  /**
   * Whether a walk must still enter the directory `rel` when it is left out: a "!" pattern
   * written below it may take a path inside back. As in BuildKit the test is on the pattern's
   * text (`!docs/README.md` and `!docs/*.md` open "docs"; `!**\/README.md` opens nothing).
   */
  mayTakeBackBelow(rel: string): boolean {
    return this.rules.some((rule) => !rule.exclude && `${rule.pattern}/`.startsWith(`${rel}/`));
  }
}

/**
 * The patterns of an ignore file, as BuildKit reads them: a line starting with "#" is a comment
 * (one starting with " #" is a pattern); each line is trimmed, "!" then trimmed again, and a
 * leading "/" dropped.
 */
function readPatterns(file: string): { patterns: string[]; lines: number[] } {
  const patterns: string[] = [];
  const lines: number[] = [];
  fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split('\n').forEach((raw, index) => {
    if (raw.startsWith('#')) return;
    let pattern = raw.trim();
    if (pattern === '') return;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern !== '') pattern = path.posix.normalize(pattern).replace(/^\/(?=.)/, '');
    patterns.push(invert ? `!${pattern}` : pattern);
    lines.push(index + 1);
  });
  return { patterns, lines };
}

function matcherOf(file: string, shown: string): IgnoreMatcher {
  const { patterns, lines } = readPatterns(file);
  return new IgnoreMatcher(patterns, (i) => `${shown}:${lines[i]}: pattern "${patterns[i]}"`);
}

/** Dockerfile.dockerignore next to the Dockerfile wins over the context's .dockerignore, as in BuildKit. */
export function loadIgnore(contextDir: string, dockerfile: string): IgnoreMatcher {
  const specific = `${dockerfile}.dockerignore`;
  const general = path.join(contextDir, '.dockerignore');
  if (fs.existsSync(specific)) return matcherOf(specific, path.basename(specific));
  if (fs.existsSync(general)) return matcherOf(general, '.dockerignore');
  return new IgnoreMatcher([]);
}
