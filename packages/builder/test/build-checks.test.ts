// Build checks around a real build (as root: COPY gives files their owners): the findings, in
// short, after the steps and before the summary line; `# check=error=false` and a skip that leaves
// nothing let the build run. `--check` and error=true, which build nothing, are in dockerfile-checks.
import t from 'tap';
import { project } from './project.js';

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
