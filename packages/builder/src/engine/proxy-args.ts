// The proxy build args BuildKit lets through without an ARG: a --build-arg HTTP_PROXY=... reaches
// every RUN step's environment, so that a build behind a proxy works unchanged, but never the
// image: not its config, not its history, not the step's cache key (a proxy is where the build
// runs, not what it makes).

const PROXY_ARGS = ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((name) => [name, name.toLowerCase()]);

/**
 * The NAME=value entries of the proxy args given to the build, for a RUN step's environment;
 * a name `env` already has (from ENV or a declared ARG) keeps its value there.
 */
export function proxyEnv(buildArgs: Record<string, string>, env: string[]): string[] {
  const taken = new Set(env.map((entry) => entry.slice(0, entry.indexOf('='))));
  return PROXY_ARGS.filter((name) => buildArgs[name] !== undefined && !taken.has(name)).map((name) => `${name}=${buildArgs[name]}`);
}
