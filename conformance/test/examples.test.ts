// The example projects, as the README tells people to run them: built by tsbuild, run by tsrunc.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const examples: [string, RegExp][] = [
  ['hello', /^hello from an image built by tsbuild\nrunning as 1000 in \/srv\n$/],
  ['web-service', /^<h1>hello from busybox httpd, built by tsbuild<\/h1>\n$/],
];

for (const [name, expected] of examples) {
  t.test(`examples/${name}/run.sh`, async (t) => {
    const script = fileURLToPath(new URL(`../../../examples/${name}/run.sh`, import.meta.url));
    const r = spawnSync('bash', [script], { encoding: 'utf8', timeout: 180_000 });
    t.equal(r.status, 0, r.stderr.slice(-800));
    t.match(r.stdout, expected);
  });
}
