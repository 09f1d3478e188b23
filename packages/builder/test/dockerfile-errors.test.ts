// Every parse error, with its exact message and line.
import t from 'tap';
import { DockerfileError, parseDockerfile } from '../src/dockerfile/index.js';

const file = (...lines: string[]): string => lines.join('\n') + '\n';

/** The DockerfileError thrown for `text`, or undefined when parsing succeeds. */
function failure(text: string, name?: string): DockerfileError | undefined {
  try {
    parseDockerfile(text, name);
  } catch (err) {
    if (err instanceof DockerfileError) return err;
    throw err;
  }
  return undefined;
}

const cases: [string, string, number, string][] = [
  ['empty file', '', 1, 'file with no instructions'],
  ['only comments and blanks', file('# just a comment', '', '   '), 3, 'file with no instructions'],
  ['unknown instruction', file('FROM a', 'RUN x', 'foo bar'), 3, 'unknown instruction: FOO'],
  ['instruction before FROM', file('ARG X=1', '', 'RUN x', 'FROM a'), 3, 'no build stage in current context: RUN before the first FROM'],
  ['only ARGs', file('ARG A', 'ARG B'), 2, 'no build stage: the file has no FROM instruction'],
  ['duplicate stage name (case-insensitive)', file('FROM a AS Build', 'FROM b AS build'), 2, 'duplicate stage name "build"'],
  ['invalid stage name', file('FROM a', 'FROM b AS 1st'), 2, 'invalid name for build stage: "1st", name can\'t start with a number or contain symbols'],
  ['FROM with two arguments', file('FROM a b'), 1, 'FROM requires either one or three arguments'],
  ['FROM without AS', file('FROM a FOR b'), 1, 'When using FROM with 3 arguments, the second argument must be "AS"'],
  ['unknown flag', file('FROM a', 'COPY --foo=bar a b'), 2, 'unknown flag: --foo'],
  ['flag on an instruction without flags', file('FROM a', 'CMD --help'), 2, 'unknown flag: --help'],
  ['FROM flag other than platform', file('FROM --link a'), 1, 'unknown flag: --link'],
  ['bad boolean flag', file('FROM a', 'COPY --link=maybe a b'), 2, 'expecting boolean value for flag --link, not: maybe'],
  ['duplicate string flag', file('FROM a', 'COPY --from=a --from=b x y'), 2, 'duplicate flag specified: --from'],
  ['string flag without value', file('FROM a', 'COPY --chown a b'), 2, 'missing a value on flag: --chown'],
  ['bad network mode', file('FROM a', 'RUN --network=bridge true'), 2, 'unsupported value for --network: "bridge" (expected default, none, host)'],
  [
    'unterminated heredoc names the instruction line',
    file('FROM a', '', 'RUN <<EOF', 'echo', 'EOF ', 'more'),
    3,
    'unterminated heredoc EOF',
  ],
  ['second heredoc unterminated', file('FROM a', 'RUN <<A <<B', 'a', 'A', 'b'), 2, 'unterminated heredoc B'],
  ['SHELL not JSON', file('FROM a', 'SHELL /bin/bash -c'), 2, 'SHELL requires the arguments to be in JSON form'],
  ['SHELL empty array', file('FROM a', 'SHELL []'), 2, 'SHELL requires at least one argument'],
  ['JSON array of non-strings', file('FROM a', 'CMD ["a", 1]'), 2, 'when using JSON array syntax, arrays must be comprised of strings only'],
  ['ONBUILD ONBUILD', file('FROM a', 'ONBUILD ONBUILD RUN x'), 2, 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'],
  ['ONBUILD FROM', file('FROM a', 'ONBUILD FROM b'), 2, "FROM isn't allowed as an ONBUILD trigger"],
  ['ONBUILD MAINTAINER', file('FROM a', 'ONBUILD maintainer me'), 2, "MAINTAINER isn't allowed as an ONBUILD trigger"],
  ['ONBUILD unknown trigger', file('FROM a', 'ONBUILD NOPE x'), 2, 'unknown instruction: NOPE'],
  ['ENV word without =', file('FROM a', 'ENV a=1 b'), 2, 'Syntax error - can\'t find = in "b". Must be of the form: name=value'],
  ['ENV legacy form with one word', file('FROM a', 'ENV a'), 2, 'ENV must have two arguments'],
  ['LABEL without arguments', file('FROM a', 'LABEL'), 2, 'LABEL requires at least one argument'],
  ['ENV blank name', file('FROM a', 'ENV =x'), 2, 'ENV names can not be blank'],
  ['ARG without arguments', file('FROM a', 'ARG'), 2, 'ARG requires at least one argument'],
  ['ARG blank name', file('FROM a', 'ARG =x'), 2, 'ARG names can not be blank'],
  [
    'COPY with one argument',
    file('FROM a', 'COPY onlyone'),
    2,
    'COPY requires at least two arguments, but only one was provided. Destination could not be determined.',
  ],
  ['RUN without arguments', file('FROM a', 'RUN'), 2, 'RUN requires at least one argument'],
  ['USER without arguments', file('FROM a', 'USER'), 2, 'USER requires exactly one argument'],
  ['EXPOSE without arguments', file('FROM a', 'EXPOSE'), 2, 'EXPOSE requires at least one argument'],
  ['VOLUME with an empty path', file('FROM a', 'VOLUME ["/a", ""]'), 2, 'VOLUME specified can not be an empty string'],
  ['HEALTHCHECK unknown type', file('FROM a', 'HEALTHCHECK RUN true'), 2, 'Unknown type "RUN" in HEALTHCHECK (try CMD)'],
  ['HEALTHCHECK NONE with arguments', file('FROM a', 'HEALTHCHECK NONE x'), 2, 'HEALTHCHECK NONE takes no arguments'],
  ['HEALTHCHECK CMD without command', file('FROM a', 'HEALTHCHECK CMD'), 2, 'Missing command after HEALTHCHECK CMD'],
  ['HEALTHCHECK bad duration', file('FROM a', 'HEALTHCHECK --interval=5x CMD true'), 2, 'time: invalid duration "5x"'],
  ['HEALTHCHECK too short duration', file('FROM a', 'HEALTHCHECK --timeout=10us CMD true'), 2, 'Interval "timeout" cannot be less than 1ms'],
  ['HEALTHCHECK negative retries', file('FROM a', 'HEALTHCHECK --retries=-1 CMD true'), 2, '--retries cannot be negative (-1)'],
  ['duplicate directive', file('# escape=`', '# Escape=\\', 'FROM a'), 2, 'only one escape parser directive can be used'],
  ['invalid escape directive', file('# syntax=x', '# escape=|', 'FROM a'), 2, "invalid escape token '|' does not match ^[\\\\`]$"],
  [
    'error in a continued instruction reports its first line',
    file('FROM a', '# c', 'COPY \\', '  # comment', '  --bad=1 \\', '  a b'),
    3,
    'unknown flag: --bad',
  ],
];

for (const [title, text, line, problem] of cases) {
  t.test(title, async (t) => {
    const err = failure(text);
    t.ok(err, 'throws DockerfileError');
    t.equal(err?.line, line);
    t.equal(err?.problem, problem);
    t.equal(err?.message, `Dockerfile:${line}: ${problem}`);
  });
}

t.test('message uses the given file name and is one line', async (t) => {
  const err = failure(file('FROM a', 'BOGUS'), 'sub/Dockerfile.dev');
  t.equal(err?.file, 'sub/Dockerfile.dev');
  t.equal(err?.message, 'sub/Dockerfile.dev:2: unknown instruction: BOGUS');
  t.notOk(err?.message.includes('\n'));
});

t.test('heredoc-looking text is plain where heredocs are not allowed', async (t) => {
  // ONBUILD triggers and exec form never read bodies, so the following lines are instructions.
  const df = parseDockerfile(file('FROM a', 'ONBUILD RUN cat <<EOF', 'CMD ["cat", "<<EOF"]', 'LABEL a=<<EOF'));
  t.equal(df.stages[0]?.instructions.length, 3);
});
