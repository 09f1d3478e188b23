// Build checks (`tsbuild build --check`, `# check=` directives): BuildKit's lint rules.

export { checkDockerfile, fromImages, type CheckOptions, type CheckResult } from './checks.js';
export type { CheckConfig } from './config.js';
export { checkReport, violationError, warningSummary } from './report.js';
export { RULES, ruleUrl, type Finding, type RuleName } from './rules.js';
