// Build checks around a real build (as root: COPY gives files their owners): the findings, in
// short, after the steps and before the summary line; `# check=error=false` and a skip that leaves
// nothing let the build run. `--check` and error=true, which build nothing, are in dockerfile-checks.
// UndefinedVar on a stage FROM an image of a real registry (registry-server.ts): the image's Env
// is known, pulled by the build, then read from the store by --check.
import path from 'node:path';
import t from 'tap';
import { project } from './project.js';
import { clientEnv, startRegistry } from './registry-server.js';

const file = (...lines: string[]): string => lines.join('\n') + '\n';

t.test('a build prints its findings after its steps and succeeds', async (t) => {
  const p = project(t, { Dockerfile: file('# check=error=false', 'FROM scratch', 'MAINTAINER me', 'COPY a /a'), a: 'a\n' });
  const r = p.build(['--progress', 'plain']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /#\d+ exporting to image\n#\d+ DONE [\d.]+s\n\n1 warning found \(use tsbuild build --check to expand\):\n - MaintainerDeprecated: Maintainer instruction is deprecated in favor of using label \(line 3\)\nbuilt sha256:[0-9a-f]{64} in /);
});

t.test('error=true with every finding skipped builds', async (t) => {
  const p = project(t, { Dockerfile: file('# check=skip=MaintainerDeprecated;error=true', 'FROM scratch', 'MAINTAINER me', 'COPY a /a'), a: 'a\n' });
  const r = p.build(['--progress', 'plain']);
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stderr, /warning/);
  t.match(r.stderr, /\nbuilt sha256:[0-9a-f]{64} in /);
});

t.test('UndefinedVar knows the Env of a FROM image pulled from a registry', async (t) => {
  const registry = await startRegistry(t, { auth: false });
  const env = clientEnv(path.join(registry.dir, 'client'));
  const ref = `${registry.host}/team/env-base:1`;
  const base = project(t, { Dockerfile: file('FROM scratch', 'ENV APP_HOME=/srv/app', 'COPY a /a'), a: 'a\n' });
  const pushed = base.build(['-t', ref, '--push'], env);
  t.equal(pushed.status, 0, pushed.stderr);

  const app = project(t, { Dockerfile: file(`FROM ${ref}`, 'WORKDIR $APP_HOME', 'COPY a $APP_HOM/'), a: 'a\n' });
  const finding = "UndefinedVar: Usage of undefined variable '$APP_HOM' (did you mean $APP_HOME?) (line 3)";
  const built = app.build(['--progress', 'plain'], env);
  t.equal(built.status, 0, built.stderr);
  t.match(built.stderr, `\n1 warning found (use tsbuild build --check to expand):\n - ${finding}\nbuilt sha256:`,
    'the build pulled the image and its checks knew APP_HOME from its Env');
  const checked = app.build(['--check'], env);
  t.equal(checked.status, 1, checked.stderr);
  t.match(checked.stdout, /^Check complete, 1 warning has been found!\n\nWARNING: UndefinedVar - /, '--check reads the image from the store');
  t.notMatch(checked.stdout, /'\$APP_HOME'/, 'the variable the image sets is no finding');
});
