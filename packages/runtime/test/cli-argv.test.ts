// The CLI's flag reader (cli/argv.ts) against the cases runc's command line (Go's flag package
// under urfave/cli) decides, as containerd, dockerd and runc's own suite pass them. Needs no root.
import t from 'tap';
import { FlagError, parseFlags, type Options } from '../src/cli/argv.js';

const options: Options = {
  bundle: { type: 'string', short: 'b' },
  detach: { type: 'boolean', short: 'd' },
  env: { type: 'string', short: 'e', multiple: true },
  'memory-swap': { type: 'string' },
};

t.test('long flags with one or two dashes, short flags, values joined or following', async (t) => {
  t.same(parseFlags(['--bundle', '/b', 'id'], options), { values: { bundle: '/b' }, positionals: ['id'] });
  t.same(parseFlags(['-bundle=/b', 'id'], options), { values: { bundle: '/b' }, positionals: ['id'] });
  t.same(parseFlags(['-b', '/b', '-d', 'id'], options), { values: { bundle: '/b', detach: true }, positionals: ['id'] });
  t.same(parseFlags(['id', '--detach'], options), { values: { detach: true }, positionals: ['id'] }, 'flags may follow a positional');
});

t.test('a string flag takes the next argument whatever it looks like', async (t) => {
  t.same(parseFlags(['--memory-swap', '-1', 'id'], options).values, { 'memory-swap': '-1' });
  t.same(parseFlags(['-e', '--x=1'], options).values, { env: ['--x=1'] });
});

t.test('a boolean takes =true/=false as Go reads them', async (t) => {
  t.same(parseFlags(['--detach=false'], options).values, { detach: false });
  t.same(parseFlags(['-d=1'], options).values, { detach: true });
  t.throws(() => parseFlags(['--detach=maybe'], options), new FlagError('invalid boolean value "maybe" for flag --detach'));
});

t.test('a repeated flag keeps every value, in order', async (t) => {
  t.same(parseFlags(['-e', 'A=1', '--env=B=2', '-e=C=3'], options).values, { env: ['A=1', 'B=2', 'C=3'] });
});

t.test('stopAtPositional leaves everything after the first positional untouched', async (t) => {
  t.same(parseFlags(['-d', 'id', 'ls', '-la', '--', 'x'], options, true), { values: { detach: true }, positionals: ['id', 'ls', '-la', '--', 'x'] });
  t.same(parseFlags(['--', '-d'], options, true), { values: {}, positionals: ['-d'] }, '-- ends the flags');
  t.same(parseFlags(['-', '-d'], options, true).positionals, ['-', '-d'], 'a lone dash is a positional');
});

t.test('unknown flags and missing values are errors worded as runc words them', async (t) => {
  t.throws(() => parseFlags(['--bogus'], options), new FlagError('flag provided but not defined: -bogus'));
  t.throws(() => parseFlags(['-x', 'id'], options), new FlagError('flag provided but not defined: -x'));
  t.throws(() => parseFlags(['id', '--bundle'], options), new FlagError('flag needs an argument: --bundle'));
  t.throws(() => parseFlags(['--=x'], options), new FlagError('bad flag syntax: --=x'));
  t.throws(() => parseFlags(['---d'], options), new FlagError('bad flag syntax: ---d'));
});
