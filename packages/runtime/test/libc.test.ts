import t from 'tap';
import { libc, check, SysError } from '../src/sys/libc.js';

const rmdir = libc.func('int rmdir(const char *path)');

t.test('check passes a successful result through', async (t) => {
  t.equal(check(0, 'noop'), 0);
});

t.test('check turns -1 into a SysError with the errno name', async (t) => {
  const err = t.throws(() => check(rmdir('/nonexistent-tsrunc-test-dir') as number, 'rmdir /nonexistent')) as SysError;
  t.equal(err.code, 'ENOENT');
  t.match(err.message, /^rmdir \/nonexistent: ENOENT \(no such file or directory\)$/i);
});
