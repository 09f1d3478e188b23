// Shell-word expansion tables: every modifier against set, empty and unset variables.
import t from 'tap';
import { ExpansionError, expandWordList, expandWords } from '../src/dockerfile/index.js';

const env: Record<string, string> = { SET: 'value', EMPTY: '', SPACED: 'a  b', HOME: '/root' };
const lookup = (name: string): string | undefined => env[name];

const expansions: [string, string][] = [
  ['$SET', 'value'],
  ['${SET}', 'value'],
  ['$UNSET', ''],
  ['pre-${SET}-post', 'pre-value-post'],
  ['$SET$SET', 'valuevalue'],
  ['$SETx', ''],
  ['${SET}x', 'valuex'],
  ['$', '$'],
  ['a$ b', 'a$ b'],
  ['$1', ''],
  // ${VAR:-word}: word when unset or empty
  ['${SET:-d}', 'value'],
  ['${EMPTY:-d}', 'd'],
  ['${UNSET:-d}', 'd'],
  // ${VAR-word}: word only when unset
  ['${SET-d}', 'value'],
  ['${EMPTY-d}', ''],
  ['${UNSET-d}', 'd'],
  // ${VAR:+word}: word when set and non-empty
  ['${SET:+alt}', 'alt'],
  ['${EMPTY:+alt}', ''],
  ['${UNSET:+alt}', ''],
  // ${VAR+word}: word when set, even empty
  ['${SET+alt}', 'alt'],
  ['${EMPTY+alt}', 'alt'],
  ['${UNSET+alt}', ''],
  // ${VAR:?msg} / ${VAR?msg} pass the value through when acceptable
  ['${SET:?msg}', 'value'],
  ['${SET?msg}', 'value'],
  ['${EMPTY?msg}', ''],
  // nested and quoted words inside modifiers
  ['${UNSET:-${SET}}', 'value'],
  ['${UNSET:-"a b"}', 'a b'],
  ['${UNSET:-$HOME/x}', '/root/x'],
  // escapes and quotes
  ['\\$SET', '$SET'],
  ['\\${SET}', '${SET}'],
  ['a\\ b', 'a b'],
  ['\\\\', '\\'],
  ['trailing\\', 'trailing'],
  ["'$SET'", '$SET'],
  ["'a\\b'", 'a\\b'],
  ['"$SET"', 'value'],
  ['"${UNSET:-x}"', 'x'],
  ['"\\$SET"', '$SET'],
  ['"\\"q\\""', '"q"'],
  ['"a\\b"', 'a\\b'],
  ['"it\'s"', "it's"],
  ["'say \"hi\"'", 'say "hi"'],
  ['x"$SPACED"y', 'xa  by'],
  ['$SPACED', 'a  b'],
];

t.test('expandWords with quote removal', async (t) => {
  for (const [input, expected] of expansions) t.equal(expandWords(input, lookup, '\\'), expected, input);
});

t.test('expandWords keeping quotes', async (t) => {
  const keep = { removeQuotes: false };
  t.equal(expandWords('"$SET" \'$SET\'', lookup, '\\', keep), '"value" \'$SET\'');
  t.equal(expandWords('\\$SET "a\\"b"', lookup, '\\', keep), '\\$SET "a\\"b"');
  t.equal(expandWords('${UNSET:-"x y"}', lookup, '\\', keep), '"x y"');
});

t.test('backtick escape', async (t) => {
  t.equal(expandWords('C:\\dir\\$SET', lookup, '`'), 'C:\\dir\\value');
  t.equal(expandWords('`$SET', lookup, '`'), '$SET');
  t.equal(expandWords('"a`"b"', lookup, '`'), 'a"b');
});

const failures: [string, string][] = [
  ['${UNSET:?is required}', 'UNSET: is required'],
  ['${EMPTY:?is required}', 'EMPTY: is required'],
  ['${UNSET?gone}', 'UNSET: gone'],
  ['${UNSET:?}', 'UNSET: is not allowed to be unset'],
  ['${EMPTY:?}', 'EMPTY: is not allowed to be empty'],
  ['${UNSET?}', 'UNSET: is not allowed to be unset'],
  ['${SET', "syntax error: missing '}'"],
  ['${SET:-x', "syntax error: missing '}'"],
  ['${', "syntax error: missing '}'"],
  ['${}', 'syntax error: bad substitution'],
  ['${:-x}', 'syntax error: bad substitution'],
  ['${SET:=x}', 'unsupported modifier (=) in substitution'],
  ['${SET:#a}', 'unsupported modifier (:#) in substitution'],
  ["'open", 'unexpected end of statement while looking for matching single-quote'],
  ['"open', 'unexpected end of statement while looking for matching double-quote'],
];

t.test('expansion errors', async (t) => {
  for (const [input, message] of failures) {
    t.throws(() => expandWords(input, lookup, '\\'), new ExpansionError(message), input);
  }
});

t.test('expandWordList splits on unquoted whitespace', async (t) => {
  const lists: [string, string[]][] = [
    ['a b  c', ['a', 'b', 'c']],
    ['"a b" c', ['a b', 'c']],
    ["'x y'z w", ['x yz', 'w']],
    ['a\\ b c', ['a b', 'c']],
    ['$SPACED c', ['a', 'b', 'c']],
    ['"$SPACED" c', ['a  b', 'c']],
    ['$EMPTY c', ['c']],
    ['"" c', ['', 'c']],
    ['  ', []],
    ['src/*.js "my file" /dest/', ['src/*.js', 'my file', '/dest/']],
  ];
  for (const [input, expected] of lists) t.strictSame(expandWordList(input, lookup, '\\'), expected, input);
});
