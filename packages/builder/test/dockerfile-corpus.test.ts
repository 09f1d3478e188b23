// Realistic Dockerfiles, asserting the parsed structure exactly.
import t from 'tap';
import { parseDockerfile, toAst } from '../src/dockerfile/index.js';

const file = (...lines: string[]): string => lines.join('\n') + '\n';

t.test('node app, two stages', async (t) => {
  const df = parseDockerfile(
    file(
      '# syntax=docker/dockerfile:1.7',
      'FROM node:20-alpine AS deps',
      'WORKDIR /app',
      'COPY package.json package-lock.json ./',
      'RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev',
      '',
      'FROM node:20-alpine',
      'ENV NODE_ENV=production PORT=3000',
      'WORKDIR /app',
      'COPY --from=deps /app/node_modules ./node_modules',
      'COPY . .',
      'USER node',
      'EXPOSE 3000',
      'CMD ["node", "server.js"]',
    ),
  );
  t.strictSame(df, {
    directives: { syntax: 'docker/dockerfile:1.7' },
    escape: '\\',
    globalArgs: [],
    stages: [
      {
        index: 0,
        name: 'deps',
        base: 'node:20-alpine',
        line: 2,
        instructions: [
          { kind: 'WORKDIR', line: 3, original: 'WORKDIR /app', flags: {}, path: '/app' },
          {
            kind: 'COPY',
            line: 4,
            original: 'COPY package.json package-lock.json ./',
            flags: {},
            sources: ['package.json', 'package-lock.json'],
            dest: './',
            heredocs: [],
          },
          {
            kind: 'RUN',
            line: 5,
            original: 'RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev',
            flags: { mount: ['type=cache,target=/root/.npm'] },
            form: 'shell',
            command: 'npm ci --omit=dev',
            heredocs: [],
          },
        ],
      },
      {
        index: 1,
        base: 'node:20-alpine',
        line: 7,
        instructions: [
          {
            kind: 'ENV',
            line: 8,
            original: 'ENV NODE_ENV=production PORT=3000',
            flags: {},
            pairs: [
              { key: 'NODE_ENV', value: 'production', raw: 'production' },
              { key: 'PORT', value: '3000', raw: '3000' },
            ],
          },
          { kind: 'WORKDIR', line: 9, original: 'WORKDIR /app', flags: {}, path: '/app' },
          {
            kind: 'COPY',
            line: 10,
            original: 'COPY --from=deps /app/node_modules ./node_modules',
            flags: { from: 'deps' },
            sources: ['/app/node_modules'],
            dest: './node_modules',
            heredocs: [],
          },
          { kind: 'COPY', line: 11, original: 'COPY . .', flags: {}, sources: ['.'], dest: '.', heredocs: [] },
          { kind: 'USER', line: 12, original: 'USER node', flags: {}, user: 'node' },
          { kind: 'EXPOSE', line: 13, original: 'EXPOSE 3000', flags: {}, ports: ['3000'] },
          { kind: 'CMD', line: 14, original: 'CMD ["node", "server.js"]', flags: {}, form: 'exec', args: ['node', 'server.js'] },
        ],
      },
    ],
  });
  t.strictSame(toAst(df), JSON.parse(JSON.stringify(df)));
});

t.test('go multi-stage build to scratch', async (t) => {
  const df = parseDockerfile(
    file(
      'ARG GO_VERSION=1.22',
      'FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS builder',
      'ARG TARGETOS TARGETARCH',
      'WORKDIR /src',
      'RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \\',
      '    go build -ldflags="-s -w" -o /out/app ./cmd/app',
      '',
      'FROM scratch',
      'COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/',
      'COPY --from=builder --chmod=0755 /out/app /app',
      'ENTRYPOINT ["/app"]',
    ),
    'Dockerfile.go',
  );
  t.strictSame(df.globalArgs, [
    {
      kind: 'ARG',
      line: 1,
      original: 'ARG GO_VERSION=1.22',
      flags: {},
      args: [{ name: 'GO_VERSION', default: '1.22', defaultRaw: '1.22' }],
    },
  ]);
  const [builder, final] = df.stages;
  t.strictSame(
    { name: builder?.name, base: builder?.base, platform: builder?.platform, line: builder?.line },
    { name: 'builder', base: 'golang:${GO_VERSION}', platform: '$BUILDPLATFORM', line: 2 },
  );
  t.strictSame(builder?.instructions[0], {
    kind: 'ARG',
    line: 3,
    original: 'ARG TARGETOS TARGETARCH',
    flags: {},
    args: [{ name: 'TARGETOS' }, { name: 'TARGETARCH' }],
  });
  t.strictSame(builder?.instructions[2], {
    kind: 'RUN',
    line: 5,
    original: 'RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH     go build -ldflags="-s -w" -o /out/app ./cmd/app',
    flags: {},
    form: 'shell',
    command: 'CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH     go build -ldflags="-s -w" -o /out/app ./cmd/app',
    heredocs: [],
  });
  t.strictSame(final, {
    index: 1,
    base: 'scratch',
    line: 8,
    instructions: [
      {
        kind: 'COPY',
        line: 9,
        original: 'COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/',
        flags: { from: 'builder' },
        sources: ['/etc/ssl/certs/ca-certificates.crt'],
        dest: '/etc/ssl/certs/',
        heredocs: [],
      },
      {
        kind: 'COPY',
        line: 10,
        original: 'COPY --from=builder --chmod=0755 /out/app /app',
        flags: { from: 'builder', chmod: '0755' },
        sources: ['/out/app'],
        dest: '/app',
        heredocs: [],
      },
      { kind: 'ENTRYPOINT', line: 11, original: 'ENTRYPOINT ["/app"]', flags: {}, form: 'exec', args: ['/app'] },
    ],
  });
});

t.test('python with apt-get continuations, comments inside, and heredocs', async (t) => {
  const df = parseDockerfile(
    file(
      'FROM python:3.12-slim',
      'RUN apt-get update \\',
      ' && apt-get install -y --no-install-recommends \\',
      '      curl \\',
      '      # needed for psycopg',
      '',
      '      libpq5 \\',
      ' && rm -rf /var/lib/apt/lists/*',
      'RUN <<EOF',
      'set -e',
      '# a comment inside a heredoc is content',
      '',
      'pip install --no-cache-dir -r /tmp/requirements.txt',
      'EOF',
      'COPY <<-"CONF" /etc/app.conf',
      '\tdebug = false',
      '\t\thome = $HOME',
      '\tCONF',
      'RUN python3 <<PY > /tmp/out',
      'print("hello")',
      'PY',
      'RUN <<A cat - && <<\'B\' cat -',
      'first',
      'A',
      'second $X',
      'B',
      'CMD ["python3", "-m", "app"]',
    ),
  );
  const apt = 'apt-get update  && apt-get install -y --no-install-recommends       curl       libpq5  && rm -rf /var/lib/apt/lists/*';
  t.strictSame(df.stages[0]?.instructions, [
    { kind: 'RUN', line: 2, original: `RUN ${apt}`, flags: {}, form: 'shell', command: apt, heredocs: [] },
    {
      kind: 'RUN',
      line: 9,
      original: 'RUN <<EOF',
      flags: {},
      form: 'shell',
      command: '<<EOF',
      heredocs: [
        {
          name: 'EOF',
          content: 'set -e\n# a comment inside a heredoc is content\n\npip install --no-cache-dir -r /tmp/requirements.txt\n',
          expand: true,
          chomp: false,
        },
      ],
    },
    {
      kind: 'COPY',
      line: 15,
      original: 'COPY <<-"CONF" /etc/app.conf',
      flags: {},
      sources: [],
      dest: '/etc/app.conf',
      heredocs: [{ name: 'CONF', content: 'debug = false\nhome = $HOME\n', expand: false, chomp: true }],
    },
    {
      kind: 'RUN',
      line: 19,
      original: 'RUN python3 <<PY > /tmp/out',
      flags: {},
      form: 'shell',
      command: 'python3 <<PY > /tmp/out',
      heredocs: [{ name: 'PY', content: 'print("hello")\n', expand: true, chomp: false }],
    },
    {
      kind: 'RUN',
      line: 22,
      original: "RUN <<A cat - && <<'B' cat -",
      flags: {},
      form: 'shell',
      command: "<<A cat - && <<'B' cat -",
      heredocs: [
        { name: 'A', content: 'first\n', expand: true, chomp: false },
        { name: 'B', content: 'second $X\n', expand: false, chomp: false },
      ],
    },
    { kind: 'CMD', line: 27, original: 'CMD ["python3", "-m", "app"]', flags: {}, form: 'exec', args: ['python3', '-m', 'app'] },
  ]);
});

t.test('nginx-like image with the remaining instructions', async (t) => {
  const df = parseDockerfile(
    file(
      'FROM nginx:1.25 AS base',
      'LABEL maintainer="ops@example.com" \\',
      '      org.opencontainers.image.title="My \\"web\\" server" version=1.0',
      'MAINTAINER Jane Doe <jane@example.com>',
      'ENV NGINX_PORT 8080',
      'ENV GREETING hello   "big" world',
      'EXPOSE 8080/tcp 8443',
      'VOLUME ["/var/cache/nginx", "/var/log/nginx"]',
      'VOLUME /data /srv',
      'WORKDIR /usr/share/nginx/html',
      'USER nginx:nginx',
      'STOPSIGNAL SIGQUIT',
      'HEALTHCHECK --interval=30s --timeout=5s --start-period=1m30s --retries=3 \\',
      '  CMD ["curl", "-f", "http://localhost:8080/"]',
      'HEALTHCHECK CMD curl -f http://localhost/ || exit 1',
      'HEALTHCHECK NONE',
      'onbuild copy site/ /usr/share/nginx/html/',
      'ONBUILD RUN nginx -t',
      'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
      "CMD nginx -g 'daemon off;'",
    ),
  );
  const ins = df.stages[0]?.instructions ?? [];
  t.equal(ins.length, 17);
  t.strictSame(ins[0], {
    kind: 'LABEL',
    line: 2,
    original: 'LABEL maintainer="ops@example.com"       org.opencontainers.image.title="My \\"web\\" server" version=1.0',
    flags: {},
    pairs: [
      { key: 'maintainer', value: 'ops@example.com', raw: '"ops@example.com"' },
      { key: 'org.opencontainers.image.title', value: 'My "web" server', raw: '"My \\"web\\" server"' },
      { key: 'version', value: '1.0', raw: '1.0' },
    ],
  });
  t.strictSame(ins[1], { kind: 'MAINTAINER', line: 4, original: 'MAINTAINER Jane Doe <jane@example.com>', flags: {}, name: 'Jane Doe <jane@example.com>' });
  t.strictSame(ins[2], { kind: 'ENV', line: 5, original: 'ENV NGINX_PORT 8080', flags: {}, pairs: [{ key: 'NGINX_PORT', value: '8080', raw: '8080' }] });
  t.strictSame(ins[3], {
    kind: 'ENV',
    line: 6,
    original: 'ENV GREETING hello   "big" world',
    flags: {},
    pairs: [{ key: 'GREETING', value: 'hello   big world', raw: 'hello   "big" world' }],
  });
  t.strictSame(ins[4], { kind: 'EXPOSE', line: 7, original: 'EXPOSE 8080/tcp 8443', flags: {}, ports: ['8080/tcp', '8443'] });
  t.strictSame(ins[5], {
    kind: 'VOLUME',
    line: 8,
    original: 'VOLUME ["/var/cache/nginx", "/var/log/nginx"]',
    flags: {},
    paths: ['/var/cache/nginx', '/var/log/nginx'],
  });
  t.strictSame(ins[6], { kind: 'VOLUME', line: 9, original: 'VOLUME /data /srv', flags: {}, paths: ['/data', '/srv'] });
  t.strictSame(ins[8], { kind: 'USER', line: 11, original: 'USER nginx:nginx', flags: {}, user: 'nginx:nginx' });
  t.strictSame(ins[9], { kind: 'STOPSIGNAL', line: 12, original: 'STOPSIGNAL SIGQUIT', flags: {}, signal: 'SIGQUIT' });
  t.strictSame(ins[10], {
    kind: 'HEALTHCHECK',
    line: 13,
    original: 'HEALTHCHECK --interval=30s --timeout=5s --start-period=1m30s --retries=3   CMD ["curl", "-f", "http://localhost:8080/"]',
    flags: { interval: '30s', timeout: '5s', 'start-period': '1m30s', retries: '3' },
    test: ['CMD', 'curl', '-f', 'http://localhost:8080/'],
    options: { interval: 30e9, timeout: 5e9, startPeriod: 90e9, retries: 3 },
  });
  t.strictSame(ins[11], {
    kind: 'HEALTHCHECK',
    line: 15,
    original: 'HEALTHCHECK CMD curl -f http://localhost/ || exit 1',
    flags: {},
    test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
    options: {},
  });
  t.strictSame(ins[12], { kind: 'HEALTHCHECK', line: 16, original: 'HEALTHCHECK NONE', flags: {}, test: ['NONE'], options: {} });
  t.strictSame(ins[13], {
    kind: 'ONBUILD',
    line: 17,
    original: 'onbuild copy site/ /usr/share/nginx/html/',
    flags: {},
    instruction: {
      kind: 'COPY',
      line: 17,
      original: 'copy site/ /usr/share/nginx/html/',
      flags: {},
      sources: ['site/'],
      dest: '/usr/share/nginx/html/',
      heredocs: [],
    },
  });
  t.strictSame(ins[14], {
    kind: 'ONBUILD',
    line: 18,
    original: 'ONBUILD RUN nginx -t',
    flags: {},
    instruction: { kind: 'RUN', line: 18, original: 'RUN nginx -t', flags: {}, form: 'shell', command: 'nginx -t', heredocs: [] },
  });
  t.strictSame(ins[15], {
    kind: 'SHELL',
    line: 19,
    original: 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
    flags: {},
    args: ['/bin/bash', '-o', 'pipefail', '-c'],
  });
  t.strictSame(ins[16], { kind: 'CMD', line: 20, original: "CMD nginx -g 'daemon off;'", flags: {}, form: 'shell', command: "nginx -g 'daemon off;'" });
});

t.test('windows style with escape=`', async (t) => {
  const df = parseDockerfile(
    file(
      '# escape=`',
      'FROM mcr.microsoft.com/windows/servercore:ltsc2022',
      'SHELL ["powershell", "-Command"]',
      'WORKDIR C:\\app',
      'COPY app\\ C:\\app\\',
      'RUN New-Item -ItemType Directory C:\\data; `',
      '    # comment between continued lines',
      '    Set-Content C:\\data\\x.txt \'hi\'',
      'ENV PATH="C:\\tools;${PATH}" HOME=C:\\Users\\app',
      'RUN echo done \\',
    ),
  );
  t.equal(df.escape, '`');
  t.strictSame(df.directives, { escape: '`' });
  const ins = df.stages[0]?.instructions ?? [];
  t.strictSame(ins[1], { kind: 'WORKDIR', line: 4, original: 'WORKDIR C:\\app', flags: {}, path: 'C:\\app' });
  t.strictSame(ins[2], { kind: 'COPY', line: 5, original: 'COPY app\\ C:\\app\\', flags: {}, sources: ['app\\'], dest: 'C:\\app\\', heredocs: [] });
  t.strictSame(ins[3], {
    kind: 'RUN',
    line: 6,
    original: "RUN New-Item -ItemType Directory C:\\data;     Set-Content C:\\data\\x.txt 'hi'",
    flags: {},
    form: 'shell',
    command: "New-Item -ItemType Directory C:\\data;     Set-Content C:\\data\\x.txt 'hi'",
    heredocs: [],
  });
  t.strictSame(ins[4], {
    kind: 'ENV',
    line: 9,
    original: 'ENV PATH="C:\\tools;${PATH}" HOME=C:\\Users\\app',
    flags: {},
    pairs: [
      { key: 'PATH', value: 'C:\\tools;${PATH}', raw: '"C:\\tools;${PATH}"' },
      { key: 'HOME', value: 'C:\\Users\\app', raw: 'C:\\Users\\app' },
    ],
  });
  // With escape=` a trailing backslash is ordinary text, not a continuation.
  t.strictSame(ins[5], { kind: 'RUN', line: 10, original: 'RUN echo done \\', flags: {}, form: 'shell', command: 'echo done \\', heredocs: [] });
});

t.test('parser directives', async (t) => {
  t.strictSame(
    parseDockerfile(file('# SYNTAX = docker/dockerfile:1', '#check=skip=all', '# escape=\\', 'FROM a')).directives,
    { syntax: 'docker/dockerfile:1', check: 'skip=all', escape: '\\' },
  );
  // A non-directive comment ends the directive block.
  const late = parseDockerfile(file('# hello', '# escape=`', 'FROM a', 'RUN a \\', ' b'));
  t.strictSame(late.directives, {});
  t.equal(late.escape, '\\');
  t.equal(late.stages[0]?.instructions.length, 1);
  // So do a blank line and an unknown directive.
  t.strictSame(parseDockerfile(file('', '# escape=`', 'FROM a')).directives, {});
  t.strictSame(parseDockerfile(file('# foo=bar', '# escape=`', 'FROM a')).directives, {});
  // After an instruction they are plain comments, so repeating one there is fine.
  t.strictSame(parseDockerfile(file('# escape=`', 'FROM a', '# escape=\\')).directives, { escape: '`' });
});

t.test('line handling details', async (t) => {
  const df = parseDockerfile('\uFEFFfrom alpine\r\n  run   echo a \\  \r\n\r\n   b\r\nEnv A=1\n');
  t.strictSame(
    df.stages[0]?.instructions.map((i) => i.original),
    ['run   echo a    b', 'Env A=1'],
  );
  const run = df.stages[0]?.instructions[0];
  t.strictSame(run?.kind === 'RUN' && run.form === 'shell' ? run.command : undefined, 'echo a    b');
  // JSON-looking text that is not valid JSON is shell form; exec form never reads heredocs.
  const forms = parseDockerfile(file('FROM a', 'RUN ["echo", "hi"] && true', 'RUN ["cat", "<<EOF"]', 'CMD []'));
  t.strictSame(
    forms.stages[0]?.instructions.map((i) => (i.kind === 'RUN' || i.kind === 'CMD' ? i.form : '')),
    ['shell', 'exec', 'exec'],
  );
  // Flags: quoted values, list flags, booleans, `--` ends the flags.
  const flagged = parseDockerfile(
    file(
      'FROM a',
      'COPY --link --parents=false --exclude=*.md --exclude="docs/**" src/ /dst/',
      'ADD --checksum=sha256:abc --keep-git-dir https://example.com/repo.git /src',
      'RUN --network=none --security=insecure -- --not-a-flag',
    ),
  ).stages[0]?.instructions;
  t.strictSame(flagged?.map((i) => i.flags), [
    { link: 'true', parents: 'false', exclude: ['*.md', 'docs/**'] },
    { checksum: 'sha256:abc', 'keep-git-dir': 'true' },
    { network: 'none', security: 'insecure' },
  ]);
  const last = flagged?.[2];
  t.equal(last?.kind === 'RUN' && last.form === 'shell' ? last.command : undefined, '--not-a-flag');
});
