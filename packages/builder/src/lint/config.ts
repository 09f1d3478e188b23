// `# check=skip=A,B;error=true` (or the BUILDKIT_DOCKERFILE_CHECK build arg): which checks run,
// and whether a violation fails the build. Read as BuildKit reads it: up to three `key=value`
// parts separated by ";", rule lists separated by ",".

export interface CheckConfig {
  skipAll: boolean;
  skip: ReadonlySet<string>;
  /** error=true: a violation fails a build before any step runs. */
  error: boolean;
}

const BOOLEANS: Record<string, boolean> = { true: true, '1': true, t: true, TRUE: true, True: true, T: true, false: false, '0': false, f: false, FALSE: false, False: false, F: false };

const ruleList = (value: string): string[] => value.split(',').map((rule) => rule.trim());

export function parseCheckConfig(text: string | undefined, source: string): CheckConfig {
  const config = { skipAll: false, skip: new Set<string>(), error: false };
  // BuildKit reads the directive's value up to its first space.
  const value = (text ?? '').trim().split(' ')[0] ?? '';
  if (value === '') return config;
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`${source}: invalid check option "${part}" (skip=RULE,...|all, error=true|false)`);
    const key = part.slice(0, eq).trim();
    const setting = part.slice(eq + 1).trim();
    if (key === 'skip') {
      if (setting === 'all') config.skipAll = true;
      else for (const rule of ruleList(setting)) config.skip.add(rule);
    } else if (key === 'error') {
      const flag = BOOLEANS[setting];
      if (flag === undefined) throw new Error(`${source}: check option "${part}": error= takes true or false`);
      config.error = flag;
    } else if (key !== 'experimental') {
      // experimental= names rules still in trial; tsbuild has none, so it changes nothing.
      throw new Error(`${source}: invalid check option "${key}" (skip, error, experimental)`);
    }
  }
  return config;
}

export function isSkipped(config: CheckConfig, rule: string): boolean {
  return config.skipAll || config.skip.has(rule);
}
