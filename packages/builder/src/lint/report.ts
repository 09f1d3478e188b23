// How findings are shown: in full for `build --check` (rule, link, message, the Dockerfile lines
// around it, as buildx prints them), one line each after a build, and as the error of a build
// that `# check=error=true` stops.

import { RULES, ruleUrl, type Finding } from './rules.js';

const RULER = '--------------------';

/** The lines around `line` (two either side), the line itself marked `>>>`. */
function excerpt(file: string, lines: readonly string[], line: number): string {
  if (line < 1 || line > lines.length) return '';
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line + 2);
  let out = `${file}:${line}\n${RULER}\n`;
  for (let n = first; n <= last; n++) out += ` ${String(n).padStart(3)} | ${n === line ? '>>>' : '   '} ${lines[n - 1]}\n`;
  return `${out}${RULER}\n`;
}

/** `build --check`'s report, for stdout. */
export function checkReport(findings: readonly Finding[], file: string, text: string): string {
  if (findings.length === 0) return 'Check complete, no warnings found.\n';
  const lines = text.split('\n');
  let out = `Check complete, ${findings.length === 1 ? '1 warning has' : `${findings.length} warnings have`} been found!\n`;
  for (const finding of findings) {
    out += `\nWARNING: ${finding.rule} - ${ruleUrl(finding.rule)}\n${RULES[finding.rule]}\n${finding.message}\n`;
    out += excerpt(file, lines, finding.line);
  }
  return out;
}

/** The short list a build prints after its steps. */
export function warningSummary(findings: readonly Finding[]): string {
  if (findings.length === 0) return '';
  const head = `${findings.length} ${findings.length === 1 ? 'warning' : 'warnings'} found (use tsbuild build --check to expand):\n`;
  return head + findings.map((f) => ` - ${f.rule}: ${f.message} (line ${f.line})\n`).join('');
}

/** The error of a build stopped by `# check=error=true`: each rule once, in order of first finding. */
export function violationError(findings: readonly Finding[]): Error {
  return new Error(`lint violation found for rules: ${[...new Set(findings.map((f) => f.rule))].join(', ')}`);
}
