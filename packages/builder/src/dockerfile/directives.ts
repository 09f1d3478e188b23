// Parser directives (`# syntax=`, `# escape=`, `# check=`) are only recognised in the leading
// run of directive-shaped comments. The first blank line, ordinary comment, unknown directive or
// instruction ends that run; later directive-shaped lines are plain comments.

import { DockerfileError } from './errors.js';
import type { EscapeChar } from './types.js';

const DIRECTIVE = /^\s*#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN = new Set(['syntax', 'escape', 'check']);

export interface DirectiveResult {
  directives: Record<string, string>;
  escape: EscapeChar;
}

export function parseDirectives(lines: readonly string[], file: string): DirectiveResult {
  const directives: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const match = DIRECTIVE.exec(lines[i] ?? '');
    if (!match) break;
    const key = (match[1] ?? '').toLowerCase();
    if (!KNOWN.has(key)) break;
    if (key in directives) throw new DockerfileError(file, i + 1, `only one ${key} parser directive can be used`);
    const value = match[2] ?? '';
    if (key === 'escape' && value !== '\\' && value !== '`') {
      throw new DockerfileError(file, i + 1, `invalid escape token '${value}' does not match ^[\\\\\`]$`);
    }
    directives[key] = value;
  }
  return { directives, escape: directives['escape'] === '`' ? '`' : '\\' };
}
