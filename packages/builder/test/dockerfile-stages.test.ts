// Stage lookup for --target, stage dependencies and the printable AST.
import t from 'tap';
import { parseDockerfile, resolveStage, stageDependencies, toAst } from '../src/dockerfile/index.js';

const file = (...lines: string[]): string => lines.join('\n') + '\n';

const df = parseDockerfile(
  file(
    'FROM golang:1.22 AS Base',
    'FROM base AS build',
    'RUN --mount=type=cache,target=/go/pkg --mount=type=bind,from=assets,source=/a,target=/a go build',
    'FROM node:20 AS assets',
    'COPY --from=0 /etc/passwd /tmp/',
    'FROM alpine AS final',
    'COPY --from=build /out /bin/',
    'COPY --from=nginx:1.25 /etc/nginx /etc/nginx',
    'COPY --from=${VARIANT} /x /x',
  ),
);

t.test('resolveStage', async (t) => {
  t.equal(resolveStage(df, 'build').index, 1);
  t.equal(resolveStage(df, 'BASE').index, 0);
  t.equal(resolveStage(df, '3').name, 'final');
  t.throws(() => resolveStage(df, 'missing'), new Error('target stage "missing" could not be found'));
  t.throws(() => resolveStage(df, '7'), new Error('target stage "7" could not be found'));
});

t.test('stageDependencies', async (t) => {
  const deps = stageDependencies(df);
  t.strictSame(
    [...deps].map(([index, set]) => [index, [...set].sort()]),
    [
      [0, []],
      [1, [0, 2]],
      [2, [0]],
      [3, [1]],
    ],
  );
});

t.test('FROM only refers to earlier stages', async (t) => {
  const later = parseDockerfile(file('FROM later AS first', 'FROM alpine AS later'));
  t.strictSame([...stageDependencies(later).values()].map((s) => [...s]), [[], []]);
});

t.test('dependency cycles are errors', async (t) => {
  const cyclic = parseDockerfile(file('FROM alpine AS a', 'COPY --from=b /x /x', 'FROM alpine AS b', 'COPY --from=a /y /y'));
  t.throws(() => stageDependencies(cyclic), new Error('circular dependency detected on stage: a'));
  const self = parseDockerfile(file('FROM alpine AS a', 'COPY --from=a /x /y'));
  t.throws(() => stageDependencies(self), new Error('circular dependency detected on stage: a'));
});

t.test('toAst is plain JSON data', async (t) => {
  const ast = toAst(df);
  t.strictSame(JSON.parse(JSON.stringify(ast)), ast);
  t.match(ast, { stages: [{ name: 'base', base: 'golang:1.22' }, { name: 'build', base: 'base' }] });
});
