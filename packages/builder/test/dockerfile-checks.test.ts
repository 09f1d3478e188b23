// Build checks: each rule on a Dockerfile that breaks it (exact rule, line and message) and on one
// that does not (no finding at all); then `tsbuild build --check` itself: its report, its exit
// status, the `# check=` directive and the BUILDKIT_DOCKERFILE_CHECK build arg. Nothing here runs a
// step: --check and a build that error=true stops need neither root nor a container.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readInstructions } from '../src/dockerfile/index.js';
import { IgnoreMatcher } from '../src/engine/ignore.js';
import { checkDockerfile, ruleUrl, type Finding } from '../src/lint/index.js';
import { project } from './project.js';

const file = (...lines: string[]): string => lines.join('\n') + '\n';
const found = (text: string, ignored?: (rel: string) => boolean): [string, number, string][] =>
  checkDockerfile(readInstructions(text), 'Dockerfile', ignored ? { ignored } : {}).findings.map((f: Finding) => [f.rule, f.line, f.message]);

type Case = { rule: string; bad: string; expect: [string, number, string][]; good: string[] };

const cases: Case[] = [
  {
    rule: 'StageNameCasing',
    bad: file('FROM alpine AS Builder'),
    expect: [['StageNameCasing', 1, "Stage name 'Builder' should be lowercase"]],
    good: [file('FROM alpine AS builder')],
  },
  {
    rule: 'FromAsCasing',
    bad: file('FROM debian:latest as builder'),
    expect: [['FromAsCasing', 1, "'as' and 'FROM' keywords' casing do not match"]],
    good: [file('FROM debian:latest AS builder'), file('from debian:latest as builder')],
  },
  {
    rule: 'DuplicateStageName',
    bad: file('FROM debian AS builder', 'RUN true', 'FROM golang AS builder'),
    expect: [['DuplicateStageName', 3, 'Duplicate stage name "builder", stage names should be unique']],
    good: [file('FROM debian AS deb-builder', 'FROM golang AS go-builder')],
  },
  {
    rule: 'ReservedStageName',
    bad: file('FROM alpine AS scratch', 'FROM alpine AS context'),
    expect: [
      ['ReservedStageName', 1, 'Stage name should not use the same name as reserved stage "scratch"'],
      ['ReservedStageName', 2, 'Stage name should not use the same name as reserved stage "context"'],
    ],
    good: [file('FROM alpine AS builder', 'FROM scratch', 'COPY --from=builder /etc/os-release /')],
  },
  {
    rule: 'JSONArgsRecommended',
    bad: file('FROM alpine', 'ENTRYPOINT my-program start', 'CMD node app.js'),
    expect: [
      ['JSONArgsRecommended', 2, 'JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals'],
      ['JSONArgsRecommended', 3, 'JSON arguments recommended for CMD to prevent unintended behavior related to OS signals'],
    ],
    // SHELL says the shell form is meant, in its stage and in the stages built on it.
    good: [file('FROM alpine', 'ENTRYPOINT ["my-program", "start"]'), file('FROM alpine AS base', 'SHELL ["/bin/bash", "-c"]', 'FROM base', 'CMD my-program start')],
  },
  {
    rule: 'MaintainerDeprecated',
    bad: file('FROM alpine', 'MAINTAINER moby@example.com'),
    expect: [['MaintainerDeprecated', 2, 'Maintainer instruction is deprecated in favor of using label']],
    good: [file('FROM alpine', 'LABEL org.opencontainers.image.authors="moby@example.com"')],
  },
  {
    rule: 'UndefinedArgInFrom',
    bad: file('ARG VARIANT=-alpine', 'FROM node:22${VARIANTT} AS jsbuilder', 'FROM --platform=$BUILDPLATFROM alpine', 'FROM node:22${NOPE}'),
    expect: [
      ['UndefinedArgInFrom', 2, "FROM argument 'VARIANTT' is not declared (did you mean VARIANT?)"],
      ['UndefinedArgInFrom', 3, "FROM argument 'BUILDPLATFROM' is not declared (did you mean BUILDPLATFORM?)"],
      ['UndefinedArgInFrom', 4, "FROM argument 'NOPE' is not declared"],
    ],
    good: [file('ARG VARIANT="-alpine3.20"', 'FROM node:22${VARIANT} AS jsbuilder'), file('FROM --platform=$BUILDPLATFORM alpine')],
  },
  {
    rule: 'WorkdirRelativePath',
    bad: file('FROM nginx AS web', 'WORKDIR usr/share/nginx/html', 'WORKDIR more'),
    expect: [['WorkdirRelativePath', 2, 'Relative workdir "usr/share/nginx/html" can have unexpected results if the base image changes']],
    good: [file('FROM nginx', 'WORKDIR /usr/share/nginx/html', 'WORKDIR public'), file('FROM alpine AS base', 'WORKDIR /app', 'FROM base', 'WORKDIR src')],
  },
  {
    rule: 'UndefinedVar',
    bad: file('FROM scratch AS base', 'COPY $foo .', 'ENV PATH=$PAHT:/app/bin', 'FROM base', 'ARG VERSION=${bar}'),
    expect: [
      ['UndefinedVar', 2, "Usage of undefined variable '$foo'"],
      ['UndefinedVar', 3, "Usage of undefined variable '$PAHT' (did you mean $PATH?)"],
      ['UndefinedVar', 5, "Usage of undefined variable '$bar'"],
    ],
    // The shell expands RUN's variables; an ARG without a value is declared; a stage has its base stage's ENV.
    good: [file('FROM scratch AS base', 'ARG foo', 'COPY $foo .', 'ENV APP=/app', 'RUN echo $undefined', 'FROM base', 'WORKDIR $APP')],
  },
  {
    rule: 'MultipleInstructionsDisallowed',
    bad: file('FROM alpine', 'ENTRYPOINT ["echo", "Norway"]', 'ENTRYPOINT ["echo", "Sweden"]', 'HEALTHCHECK NONE', 'HEALTHCHECK CMD ["true"]'),
    expect: [
      ['MultipleInstructionsDisallowed', 2, 'Multiple ENTRYPOINT instructions should not be used in the same stage because only the last one will be used'],
      ['MultipleInstructionsDisallowed', 4, 'Multiple HEALTHCHECK instructions should not be used in the same stage because only the last one will be used'],
    ],
    good: [file('FROM python:alpine', 'HEALTHCHECK --interval=1s --timeout=3s \\', '  CMD ["curl", "-f", "http://localhost:8080"]', 'CMD ["python", "-m", "http.server"]', 'FROM alpine', 'CMD ["sh"]')],
  },
  {
    rule: 'LegacyKeyValueFormat',
    bad: file('FROM alpine', 'ENV DEPS \\', '    curl \\', '    git', 'LABEL maintainer someone'),
    expect: [
      ['LegacyKeyValueFormat', 2, '"ENV key=value" should be used instead of legacy "ENV key value" format'],
      ['LegacyKeyValueFormat', 5, '"LABEL key=value" should be used instead of legacy "LABEL key value" format'],
    ],
    good: [file('FROM alpine', 'ENV DEPS="curl git" MORE=x', 'LABEL maintainer=someone')],
  },
  {
    rule: 'ConsistentInstructionCasing',
    bad: file('From alpine', 'Run echo hello > /greeting.txt', 'EntRYpOiNT ["cat", "/greeting.txt"]'),
    expect: [
      ['ConsistentInstructionCasing', 1, "Command 'From' should match the case of the command majority (uppercase)"],
      ['ConsistentInstructionCasing', 2, "Command 'Run' should match the case of the command majority (uppercase)"],
      ['ConsistentInstructionCasing', 3, "Command 'EntRYpOiNT' should match the case of the command majority (uppercase)"],
    ],
    good: [file('from alpine', 'run echo hello > /greeting.txt', 'entrypoint ["cat", "/greeting.txt"]')],
  },
  {
    rule: 'ConsistentInstructionCasing (majority lowercase)',
    bad: file('from alpine', 'run true', 'COPY a /a'),
    expect: [['ConsistentInstructionCasing', 3, "Command 'COPY' should match the case of the command majority (lowercase)"]],
    good: [],
  },
  {
    rule: 'FromPlatformFlagConstDisallowed',
    bad: file('FROM --platform=linux/amd64 alpine AS base'),
    expect: [['FromPlatformFlagConstDisallowed', 1, 'FROM --platform flag should not use constant value "linux/amd64"']],
    good: [file('FROM --platform=${BUILDPLATFORM} alpine AS base'), file('FROM --platform=linux/arm64 alpine AS build_arm64')],
  },
  {
    rule: 'RedundantTargetPlatform',
    bad: file('FROM --platform=$TARGETPLATFORM alpine', 'FROM --platform=${TARGETPLATFORM} alpine'),
    expect: [
      ['RedundantTargetPlatform', 1, 'Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior'],
      ['RedundantTargetPlatform', 2, 'Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior'],
    ],
    good: [file('FROM --platform=$BUILDPLATFORM alpine'), file('FROM --platform=$TARGETOS/$TARGETARCH alpine')],
  },
  {
    rule: 'ExposeProtoCasing and ExposeInvalidFormat',
    bad: file('FROM alpine', 'ARG PORT=8080', 'EXPOSE 80/TCP 443/udp', 'EXPOSE 127.0.0.1:80:80 ${PORT}:${PORT}/SCTP'),
    expect: [
      ['ExposeProtoCasing', 3, "Defined protocol '80/TCP' in EXPOSE instruction should be lowercase"],
      ['ExposeInvalidFormat', 4, "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'"],
      ['ExposeProtoCasing', 4, "Defined protocol '8080:8080/SCTP' in EXPOSE instruction should be lowercase"],
      ['ExposeInvalidFormat', 4, "EXPOSE instruction should not define an IP address or host-port mapping, found '8080:8080/SCTP'"],
    ],
    good: [file('FROM alpine', 'ARG PORT=8080', 'EXPOSE 80/tcp 443 ${PORT}/udp 9000-9010')],
  },
  {
    rule: 'SecretsUsedInArgOrEnv',
    bad: file('ARG GITHUB_TOKEN', 'FROM alpine', 'ARG AWS_SECRET_ACCESS_KEY', 'ENV DB_PASSWORD=x apikey=y'),
    expect: [
      ['SecretsUsedInArgOrEnv', 1, 'Do not use ARG or ENV instructions for sensitive data (ARG "GITHUB_TOKEN")'],
      ['SecretsUsedInArgOrEnv', 3, 'Do not use ARG or ENV instructions for sensitive data (ARG "AWS_SECRET_ACCESS_KEY")'],
      ['SecretsUsedInArgOrEnv', 4, 'Do not use ARG or ENV instructions for sensitive data (ENV "DB_PASSWORD")'],
      ['SecretsUsedInArgOrEnv', 4, 'Do not use ARG or ENV instructions for sensitive data (ENV "apikey")'],
    ],
    good: [file('FROM alpine', 'ARG PUBLIC_KEY', 'ENV KEY_FILE=/run/secrets/k MONKEY=1 TOKENIZER=x')],
  },
  {
    rule: 'InvalidDefaultArgInFrom',
    bad: file('ARG TAG', 'FROM busybox:${TAG}'),
    expect: [['InvalidDefaultArgInFrom', 2, 'Default value for ARG busybox:${TAG} results in empty or invalid base image name']],
    good: [file('ARG TAG=latest', 'FROM busybox:${TAG}'), file('ARG VARIANT', 'FROM busybox:stable${VARIANT}'), file('ARG TAG', 'FROM alpine:${TAG:-3.14}')],
  },
];

for (const c of cases) {
  t.test(c.rule, async (t) => {
    t.same(found(c.bad), c.expect, 'the bad Dockerfile: each finding with its line and message');
    for (const good of c.good) t.same(found(good), [], `no finding: ${JSON.stringify(good)}`);
  });
}

t.test('CopyIgnoredFile: a source the .dockerignore leaves out', async (t) => {
  const ignore = new IgnoreMatcher(['tmp', '*.log', '!keep.log']);
  const ignored = (rel: string) => ignore.ignores(rel);
  t.same(found(file('FROM scratch', 'COPY ./tmp/helloworld.txt /helloworld.txt', 'ADD debug.log /'), ignored), [
    ['CopyIgnoredFile', 2, 'Attempting to Copy file "tmp/helloworld.txt" that is excluded by .dockerignore'],
    ['CopyIgnoredFile', 3, 'Attempting to Add file "debug.log" that is excluded by .dockerignore'],
  ]);
  // Another stage's files, a URL, the context root and a path taken back by "!" are not the context's left-out files.
  t.same(found(file('FROM scratch AS a', 'FROM scratch', 'COPY ./forever/helloworld.txt keep.log . /x/', 'COPY --from=a tmp/x /', 'ADD https://example.com/tmp/a.log /'), ignored), []);
});

t.test('rule URLs as BuildKit links them', async (t) => {
  t.equal(ruleUrl('JSONArgsRecommended'), 'https://docs.docker.com/go/dockerfile/rule/json-args-recommended/');
  t.equal(ruleUrl('FromAsCasing'), 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/');
  t.equal(ruleUrl('UndefinedArgInFrom'), 'https://docs.docker.com/go/dockerfile/rule/undefined-arg-in-from/');
});

t.test('# check= directive: skip and error', async (t) => {
  const body = ['FROM alpine as base', 'CMD echo hi'];
  const check = (directive: string, options = {}) => checkDockerfile(readInstructions(file(directive, ...body)), 'Dockerfile', options);
  const rules = (directive: string) => check(directive).findings.map((f) => f.rule);
  t.same(rules('# check=skip=JSONArgsRecommended'), ['FromAsCasing']);
  t.same(rules('# check=skip=FromAsCasing,JSONArgsRecommended'), []);
  // BuildKit reads the directive up to its first space.
  t.same(rules('# check=skip=FromAsCasing, JSONArgsRecommended'), ['JSONArgsRecommended']);
  t.same(rules('# check=skip=all'), []);
  t.same(rules('# nothing'), ['FromAsCasing', 'JSONArgsRecommended']);
  const both = check('# check=skip=FromAsCasing;error=true');
  t.same([both.config.error, both.findings.map((f) => f.rule)], [true, ['JSONArgsRecommended']]);
  t.equal(check('# check=error=false').config.error, false);
  // The build arg is used instead of the directive.
  t.same(check('# check=skip=all', { checkArg: 'skip=FromAsCasing' }).findings.map((f) => f.rule), ['JSONArgsRecommended']);
  t.throws(() => check('# check=skip'), /Dockerfile: # check=: invalid check option "skip"/);
  t.throws(() => check('# check=error=maybe'), /error= takes true or false/);
  t.throws(() => check('# check=fail=true'), /invalid check option "fail"/);
});

t.test('tsbuild build --check: the report and the exit status', async (t) => {
  const bad = project(t, {
    Dockerfile: file('# syntax=docker/dockerfile:1', 'FROM alpine as base', 'COPY app.log /', '', 'FROM base AS base', 'CMD node index.js'),
    '.dockerignore': '*.log\n',
  });
  const r = bad.build(['--check']);
  t.equal(r.status, 1, 'findings: exit 1');
  t.equal(r.stdout, [
    'Check complete, 4 warnings have been found!',
    '',
    'WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/',
    "The 'as' keyword should match the case of the 'from' keyword",
    "'as' and 'FROM' keywords' casing do not match",
    'Dockerfile:2',
    '--------------------',
    '   1 |     # syntax=docker/dockerfile:1',
    '   2 | >>> FROM alpine as base',
    '   3 |     COPY app.log /',
    '   4 |     ',
    '--------------------',
    '',
    'WARNING: CopyIgnoredFile - https://docs.docker.com/go/dockerfile/rule/copy-ignored-file/',
    'Attempting to Copy file that is excluded by .dockerignore',
    'Attempting to Copy file "app.log" that is excluded by .dockerignore',
    'Dockerfile:3',
    '--------------------',
    '   1 |     # syntax=docker/dockerfile:1',
    '   2 |     FROM alpine as base',
    '   3 | >>> COPY app.log /',
    '   4 |     ',
    '   5 |     FROM base AS base',
    '--------------------',
    '',
    'WARNING: DuplicateStageName - https://docs.docker.com/go/dockerfile/rule/duplicate-stage-name/',
    'Stage names should be unique',
    'Duplicate stage name "base", stage names should be unique',
    'Dockerfile:5',
    '--------------------',
    '   3 |     COPY app.log /',
    '   4 |     ',
    '   5 | >>> FROM base AS base',
    '   6 |     CMD node index.js',
    '   7 |     ',
    '--------------------',
    '',
    'WARNING: JSONArgsRecommended - https://docs.docker.com/go/dockerfile/rule/json-args-recommended/',
    'JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals',
    'JSON arguments recommended for CMD to prevent unintended behavior related to OS signals',
    'Dockerfile:6',
    '--------------------',
    '   4 |     ',
    '   5 |     FROM base AS base',
    '   6 | >>> CMD node index.js',
    '   7 |     ',
    '--------------------',
    '',
  ].join('\n'));
  t.notOk(fs.existsSync(bad.root), '--check opens no store');

  const one = project(t, { Dockerfile: file('FROM alpine', 'MAINTAINER me') });
  t.match(one.build(['--check']), { status: 1, stdout: /^Check complete, 1 warning has been found!\n/ });

  const clean = project(t, { Dockerfile: file('FROM alpine AS base', 'CMD ["node", "index.js"]') });
  t.same(clean.build(['--check']), { status: 0, stdout: 'Check complete, no warnings found.\n', stderr: '' }, 'no finding: exit 0');

  const skipped = project(t, { Dockerfile: file('# check=skip=all', 'FROM alpine as base', 'CMD node index.js') });
  t.same(skipped.build(['--check']), { status: 0, stdout: 'Check complete, no warnings found.\n', stderr: '' }, 'skip=all: exit 0');
  const byArg = skipped.build(['--check', '--build-arg', 'BUILDKIT_DOCKERFILE_CHECK=skip=FromAsCasing']);
  t.match(byArg, { status: 1, stdout: /^Check complete, 1 warning has been found!\n\nWARNING: JSONArgsRecommended /m }, 'the build arg is used instead of the directive');
});

t.test('tsbuild build --check: a Dockerfile the parser refuses, a bad check option', async (t) => {
  const broken = project(t, { Dockerfile: file('FROM alpine', 'NOPE x') });
  t.same(broken.build(['--check']), { status: 1, stdout: '', stderr: 'tsbuild: error: Dockerfile:2: unknown instruction: NOPE\n' });
  const option = project(t, { Dockerfile: file('# check=skip', 'FROM alpine') });
  t.same(option.build(['--check']), { status: 1, stdout: '', stderr: 'tsbuild: error: Dockerfile: # check=: invalid check option "skip" (skip=RULE,...|all, error=true|false)\n' });
});

t.test('# check=error=true stops a build before any step, leaving no store', async (t) => {
  const p = project(t, { Dockerfile: file('# check=error=true', 'FROM alpine as base', 'ENV a b', 'RUN touch /never') });
  const r = p.build([]);
  t.equal(r.status, 1);
  t.equal(r.stderr, [
    '2 warnings found (use tsbuild build --check to expand):',
    " - FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 2)",
    ' - LegacyKeyValueFormat: "ENV key=value" should be used instead of legacy "ENV key value" format (line 3)',
    'tsbuild: error: lint violation found for rules: FromAsCasing, LegacyKeyValueFormat',
    '',
  ].join('\n'));
  t.notOk(fs.existsSync(p.root), 'no store was made');
  t.same(fs.readdirSync(path.join(p.dir)).sort(), ['ctx', 'tmp'], 'nothing else appeared');
});
