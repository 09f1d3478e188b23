// The Dockerfile front end and the build's inputs as BuildKit reads them: ${VAR#...}-style
// expansions, an escaped escape at a line's end, whitespace-only COPY/ADD/VOLUME words, heredoc
// markers, HEALTHCHECK --start-interval, .dockerignore exceptions and pattern errors, `-t name`
// as name:latest, and the proxy build args. Pure parser cases are checked on the parser; the rest
// in real builds read back from the image or from RUN.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { DockerfileError, expandWords, parseDockerfile } from '../src/dockerfile/index.js';
import { busyboxProject, count, project } from './project.js';

function ociConfig(dir: string): { config: Record<string, unknown>; history: { created_by: string }[] } {
  const blob = (digest: string) => JSON.parse(fs.readFileSync(path.join(dir, 'blobs/sha256', digest.slice(7)), 'utf8'));
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8'));
  return blob(blob(index.manifests[0].digest).config.digest);
}

t.test('${VAR#pattern}, ${VAR%pattern}, ${VAR/a/b} and their greedy forms expand as in BuildKit', async (t) => {
  const env: Record<string, string> = { P: '/usr/local/lib/libz.so.1.2', V: 'a.b.c', S: 'x*y', E: '' };
  const expand = (word: string) => expandWords(word, (name) => env[name], '\\');
  const cases: [string, string][] = [
    ['${P#*/}', 'usr/local/lib/libz.so.1.2'],
    ['${P##*/}', 'libz.so.1.2'],
    ['${P%.*}', '/usr/local/lib/libz.so.1'],
    ['${P%%.*}', '/usr/local/lib/libz'],
    ['${P%/*}', '/usr/local/lib'],
    ['${P#/usr}', '/local/lib/libz.so.1.2'],
    ['${P#nomatch}', '/usr/local/lib/libz.so.1.2'],
    ['${V/./-}', 'a-b.c'],
    ['${V//./-}', 'a-b-c'],
    ['${V//?/x}', 'xxxxx'],
    ['${S/\\*/+}', 'x+y'],
    ['${V/b/$E}', 'a..c'],
    ['${UNSET#a}', ''],
    ['${UNSET/a/b}', ''],
    ['"${P##*/}"', 'libz.so.1.2'],
  ];
  for (const [word, want] of cases) t.equal(expand(word), want, word);
  t.throws(() => expand('${V:#a}'), /unsupported modifier \(:#\) in substitution/, 'the colon is not allowed with # and %');
  t.throws(() => expand('${V/a'), /syntax error: missing '\/' in \$\{\}/, 'a replacement needs its second slash');
  t.throws(() => expand('${V#\\q}'), /invalid escape '\\q'/, 'only *, ? and \\ can be escaped in a pattern');

  const p = busyboxProject(t, [
    'FROM base',
    'ARG FILE=/usr/local/lib/libz.so.1.2',
    'ENV NAME=${FILE##*/} DIR=${FILE%/*} DASHED=${FILE//\\//-}',
    'WORKDIR ${DIR}',
    'RUN echo "$NAME $DIR $DASHED $(pwd)" > /report',
  ]);
  const r = p.build(['-t', 'expand:1']);
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('expand:1'), 'report'), 'utf8'), 'libz.so.1.2 /usr/local/lib -usr-local-lib-libz.so.1.2 /usr/local/lib\n',
    'ENV and WORKDIR take the expansions in a build');
});

t.test('a line ending in an escaped escape ends the instruction', async (t) => {
  const df = parseDockerfile('FROM a\nRUN echo a\\\\\nRUN echo b\nRUN echo c \\\n  d\n');
  t.same(df.stages[0]!.instructions.map((i) => [i.line, i.original]), [[2, 'RUN echo a\\\\'], [3, 'RUN echo b'], [4, 'RUN echo c   d']],
    '"\\\\" at the end does not swallow the next RUN; a single "\\" still continues');
  const backtick = parseDockerfile('# escape=`\nFROM a\nRUN echo a``\nRUN echo b\n');
  t.equal(backtick.stages[0]!.instructions.length, 2, 'with the escape directive, "``" ends it too');
});

t.test('COPY, ADD, VOLUME and EXPOSE split their words on whitespace only', async (t) => {
  const df = parseDockerfile('FROM a\nCOPY "a b" /x/\nADD --chown=1 \'c d\' /y/\nVOLUME "/v w" /z\nEXPOSE "80 81"\nCOPY ["a b", "/j/"]\n');
  const [copy, add, volume, expose, json] = df.stages[0]!.instructions as unknown as Record<string, unknown>[];
  t.same([copy!.sources, copy!.dest], [['"a', 'b"'], '/x/'], 'COPY: the quotes do not join words');
  t.same([add!.sources, add!.dest], [["'c", "d'"], '/y/'], 'ADD: likewise');
  t.same(volume!.paths, ['"/v', 'w"', '/z'], 'VOLUME: likewise');
  t.same(expose!.ports, ['"80', '81"'], 'EXPOSE: likewise');
  t.same([json!.sources, json!.dest], [['a b'], '/j/'], 'the JSON form holds spaces');

  const p = busyboxProject(t, ['FROM base', 'COPY "a b" /x/'], { 'a b': 'x\n' });
  const r = p.build(['-t', 'quoted:1']);
  t.not(r.status, 0, 'a quoted name with a space fails, as in BuildKit');
  t.match(r.stderr, /Dockerfile:6: .*unexpected end of statement while looking for matching double-quote/, 'on the unterminated quote of its first word');
});

t.test('heredoc markers are found as BuildKit finds them', async (t) => {
  const spaced = parseDockerfile('FROM a\nRUN cat <<  EOF\nRUN true\n');
  t.same(spaced.stages[0]!.instructions.map((i) => i.original), ['RUN cat <<  EOF', 'RUN true'], '"<<  EOF" is no heredoc: the next line stays an instruction');
  const open = parseDockerfile("FROM a\nRUN cat <<'EOF\nRUN true\n");
  t.same(open.stages[0]!.instructions.map((i) => i.original), ["RUN cat <<'EOF", 'RUN true'], "<<'EOF with its quote left open is no heredoc");
  const real = parseDockerfile('FROM a\nRUN <<"EOF"\necho $HOME\nEOF\n');
  t.same((real.stages[0]!.instructions[0] as unknown as { heredocs: unknown[] }).heredocs, [{ name: 'EOF', content: 'echo $HOME\n', expand: false, chomp: false }], 'a quoted marker still is one');
  const destination = (() => {
    try {
      parseDockerfile('FROM a\nCOPY foo <<EOF\nbody\nEOF\nRUN true\n');
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  t.ok(destination instanceof DockerfileError, 'a heredoc as the destination is refused');
  t.same([(destination as DockerfileError).line, (destination as DockerfileError).problem], [2, 'COPY cannot accept a heredoc as a destination'],
    'with its own message, at the COPY line (the body is not read as instructions)');
  t.throws(() => parseDockerfile('FROM a\nADD <<EOF <<DEST\nbody\nEOF\nx\nDEST\n'), /Dockerfile:2: ADD cannot accept a heredoc as a destination/, 'for ADD too');
});

t.test('HEALTHCHECK --start-interval is kept in the image config', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nHEALTHCHECK --interval=30s --start-period=1m --start-interval=2s --retries=2 CMD ["/check"]\n' });
  const out = path.join(p.dir, 'out');
  const r = p.build(['-o', `type=oci,dest=${out}`]);
  t.equal(r.status, 0, r.stderr);
  t.same(ociConfig(out).config.Healthcheck, { Test: ['CMD', '/check'], Interval: 30e9, StartPeriod: 60e9, StartInterval: 2e9, Retries: 2 });
});

t.test('.dockerignore: an exception inside an excluded directory is copied', async (t) => {
  const p = busyboxProject(t, ['FROM base', 'COPY . /ctx/', 'COPY docs /docs/', 'RUN cd /ctx && find docs logs keep.txt -type f | sort > /report'], {
    '.dockerignore': ['# a comment', 'docs', '!docs/README.md', 'logs', '!  logs/keep/*.log', 'Dockerfile', '.dockerignore', 'a**/*.txt', ''].join('\n'),
    'docs/README.md': 'readme\n', 'docs/other.md': 'other\n', 'docs/deep/x.md': 'x\n',
    'logs/keep/a.log': 'a\n', 'logs/drop.log': 'd\n', 'keep.txt': 'k\n', 'abc/d/e.txt': 'e\n',
  });
  const r = p.build(['-t', 'ignore:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('ignore:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'report'), 'utf8'), 'docs/README.md\nkeep.txt\nlogs/keep/a.log\n',
    'docs/README.md and logs/keep/a.log are taken back ("!" then spaces is trimmed); the rest of docs and logs stays out');
  t.notOk(fs.existsSync(path.join(rootfs, 'ctx/docs/deep')), 'an excluded directory holding nothing taken back is not made');
  t.notOk(fs.existsSync(path.join(rootfs, 'ctx/abc/d/e.txt')), '"**" inside a segment crosses directories: a**/*.txt leaves out abc/d/e.txt');
  t.same(fs.readdirSync(path.join(rootfs, 'docs')), ['README.md'], 'COPY of the excluded directory by name copies what is taken back');
});

t.test('.dockerignore: " #x" is a pattern, bad patterns fail naming the file and line', async (t) => {
  const p = busyboxProject(t, ['FROM base', 'COPY . /ctx/'], { '.dockerignore': ' #x\n', '#x': 'hidden\n', y: 'y\n' });
  const r = p.build(['-t', 'comment:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('comment:1');
  t.notOk(fs.existsSync(path.join(rootfs, 'ctx/#x')), 'a comment is only a line starting with "#": " #x" leaves out the file "#x"');
  t.ok(fs.existsSync(path.join(rootfs, 'ctx/y')));

  const bad: [string, RegExp][] = [
    ['ok\n!\n', /\.dockerignore:2: pattern "!": illegal exclusion pattern: "!"/],
    ['ok\n! \n', /\.dockerignore:2: pattern "!": illegal exclusion pattern/],
    ['[]a]\n', /\.dockerignore:1: pattern "\[\]a\]": "\]" must be escaped inside \[\.\.\.\]/],
    ['x\n\n[-x]\n', /\.dockerignore:3: pattern "\[-x\]": "-" must be escaped/],
    ['a\\\n', /\.dockerignore:1: pattern "a\\": a "\\" ends the pattern/],
    ['[abc\n', /\.dockerignore:1: pattern "\[abc": unterminated \[/],
  ];
  for (const [content, error] of bad) {
    fs.writeFileSync(path.join(p.dir, 'ctx', '.dockerignore'), content);
    const failed = p.build(['-t', 'bad-ignore:1']);
    t.not(failed.status, 0, `${JSON.stringify(content)} fails`);
    t.match(failed.stderr, error, `${JSON.stringify(content)}: the error names the file, line and problem`);
    t.match(failed.stderr.trim().split('\n').pop(), /^tsbuild: error: \.dockerignore:\d+: [^\n]+$/, 'in one line');
  }
});

t.test('-t name is stored as name:latest, which unpack and FROM find', async (t) => {
  const p = busyboxProject(t, ['FROM base', 'RUN echo first > /first']);
  const r = p.build(['-t', 'plainname']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /as plainname:latest/, 'the summary names the tag');
  t.ok(fs.existsSync(path.join(p.unpack('plainname'), 'first')), 'unpack of the bare name finds it');
  t.ok(fs.existsSync(path.join(p.unpack('plainname:latest'), 'first')), 'and of name:latest');
  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), 'FROM plainname\nRUN cat /first > /second\n');
  const child = p.build(['-t', 'child']);
  t.equal(child.status, 0, child.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('child'), 'second'), 'utf8'), 'first\n', 'FROM plainname builds on it');
});

t.test('proxy build args reach RUN without an ARG, and stay out of the image', async (t) => {
  const p = busyboxProject(t, ['FROM base', 'RUN env | grep -i _proxy= | sort > /proxies', 'ENV no_proxy=from-env', 'RUN env | grep -i ^no_proxy= > /no-proxy']);
  const out = path.join(p.dir, 'out');
  const args = ['--build-arg', 'HTTP_PROXY=http://proxy.test:3128', '--build-arg', 'https_proxy=http://s.test:3129', '--build-arg', 'no_proxy=arg',
    '--build-arg', 'ALL_PROXY=socks5://a.test:1080', '--build-arg', 'FTP_PROXY=ftp://f.test', '--build-arg', 'OTHER=x'];
  const r = p.build([...args, '-t', 'proxy:1', '-o', `type=oci,dest=${out}`]);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('proxy:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'proxies'), 'utf8'),
    'ALL_PROXY=socks5://a.test:1080\nFTP_PROXY=ftp://f.test\nHTTP_PROXY=http://proxy.test:3128\nhttps_proxy=http://s.test:3129\nno_proxy=arg\n',
    'each predefined proxy arg given is in the RUN environment; an undeclared other arg is not');
  t.equal(fs.readFileSync(path.join(rootfs, 'no-proxy'), 'utf8'), 'no_proxy=from-env\n', 'ENV of the same name wins');
  const image = ociConfig(out);
  t.notMatch(JSON.stringify(image.config), /proxy\.test|s\.test|a\.test|f\.test/, 'no proxy in the image config');
  t.notMatch(JSON.stringify(image.history), /proxy\.test|s\.test|a\.test|f\.test/, 'nor in its history');

  const moved = p.build([...args.map((a) => a.replace('proxy.test:3128', 'other.test:8080')), '-t', 'proxy:2']);
  t.equal(moved.status, 0, moved.stderr);
  t.equal(count(moved.stderr, 'CACHED'), 4, 'another proxy is no other step: every RUN is a cache hit, as in BuildKit');
});
