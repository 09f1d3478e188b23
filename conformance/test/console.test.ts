// process.terminal: the pty master arrives over --console-socket (SCM_RIGHTS), the process has the
// slave as its controlling terminal, with process.consoleSize applied.
import fs from 'node:fs';
import t from 'tap';
import { consoleSocket, receiveMaster } from '../src/console-socket.js';
import { baseSpec, makeBundle, runtime, uniqueId } from '../src/harness.js';

/** Everything the container writes to its terminal, until the slave side is closed (EIO). */
function drain(masterFd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(4096);
  for (;;) {
    let n = 0;
    try {
      n = fs.readSync(masterFd, buf, 0, buf.length, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EIO') break;
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

t.test('a terminal container sends its pty master over --console-socket', async (t) => {
  const { socketPath, listenFd } = consoleSocket(t);

  const spec = baseSpec(['sh', '-c', 'tty; stty size; [ -t 0 ] && echo stdin-is-a-tty']);
  spec.process!.terminal = true;
  spec.process!.consoleSize = { height: 33, width: 101 };
  const bundle = makeBundle(t, spec);
  const rt = runtime(t);
  const id = uniqueId();
  const created = rt.call(['create', '--bundle', bundle.dir, '--console-socket', socketPath, id]);
  t.equal(created.status, 0, `create: ${created.stderr}`);

  const { masterFd, name } = receiveMaster(t, listenFd);
  t.match(name, /^\/dev\/pts\/\d+$/, 'the payload names the pty');
  t.equal(rt.call(['start', id]).status, 0, 'start');
  const output = drain(masterFd).replace(/\r\n/g, '\n');
  t.equal(output, '/dev/pts/0\n33 101\nstdin-is-a-tty\n');
});

t.test('exec -t sends a pty of the container over --console-socket', async (t) => {
  const { socketPath, listenFd } = consoleSocket(t);
  const bundle = makeBundle(t, baseSpec(['sleep', '100']));
  const rt = runtime(t);
  const id = uniqueId();
  t.equal(rt.call(['run', '--detach', '--bundle', bundle.dir, id]).status, 0, 'run --detach');
  const exec = rt.call(['exec', '--tty', '--detach', '--console-socket', socketPath, id, 'sh', '-c', 'tty; cat /proc/1/cmdline']);
  t.equal(exec.status, 0, `exec: ${exec.stderr}`);
  const { masterFd } = receiveMaster(t, listenFd);
  t.match(drain(masterFd).replace(/\r\n/g, '\n'), /^\/dev\/pts\/\d+\nsleep\x00100\x00$/);
});

t.test('terminal without --console-socket is refused, as by runc', async (t) => {
  const spec = baseSpec(['true']);
  spec.process!.terminal = true;
  const bundle = makeBundle(t, spec);
  const r = runtime(t).call(['create', '--bundle', bundle.dir, uniqueId()]);
  t.equal(r.status, 1);
  t.match(r.stderr, /cannot allocate tty if runc will detach without setting console socket/);
});
