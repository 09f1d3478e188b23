// Byte sizes as docker reads them (units.ts), with the inputs each caller took before the two
// parsers became one: tsrunc update's memory flags and tsbuild's --keep-storage, cache.max_size
// and --shm-size. Needs no root.
import t from 'tap';
import { parseByteSize } from '../src/units.js';

const KiB = 1024, MiB = 1024 ** 2, GiB = 1024 ** 3, TiB = 1024 ** 4, PiB = 1024 ** 5;

t.test('what tsrunc update took (runc: units.RAMInBytes)', async (t) => {
  const cases: [string, number][] = [
    ['1048576', 1048576], ['512m', 512 * MiB], ['1G', GiB], ['128M', 128 * MiB], ['64k', 64 * KiB],
    ['5kb', 5 * KiB], ['5KiB', 5 * KiB], ['2mib', 2 * MiB], ['1p', PiB], ['3t', 3 * TiB], ['10b', 10], ['1.5g', 1.5 * GiB],
    ['0', 0],
  ];
  for (const [text, bytes] of cases) t.equal(parseByteSize(text), bytes, text);
});

t.test("what tsbuild's sizes took (docker: --keep-storage, --shm-size)", async (t) => {
  const cases: [string, number][] = [
    ['2GB', 2 * GiB], ['500m', 500 * MiB], ['1024', 1024], ['500MB', 500 * MiB], ['1tb', TiB], ['64 MB', 64 * MiB],
    [' 2GB ', 2 * GiB], ['1.5k', 1536], ['0.5kb', 512], ['10 b', 10],
  ];
  for (const [text, bytes] of cases) t.equal(parseByteSize(text), bytes, JSON.stringify(text));
});

t.test('fractions of a byte round down', async (t) => {
  t.equal(parseByteSize('1.0001k'), 1024);
  t.equal(parseByteSize('.5k'), 512);
  t.equal(parseByteSize('2.'), 2);
});

t.test('anything else is an error naming the text', async (t) => {
  for (const text of ['lots', '', ' ', '-5', '-1', '5i', '5ib', '5kbb', '5bb', '5x', '5 k b', 'k', '1.2.3', '0x10', '5g5']) {
    t.throws(() => parseByteSize(text), { message: `invalid size "${text}" (a number of bytes, or with a unit: 512k, 64MB, 2GiB, 1t)` }, JSON.stringify(text));
  }
  t.throws(() => parseByteSize('99999p'), /invalid size "99999p": too large/);
});
