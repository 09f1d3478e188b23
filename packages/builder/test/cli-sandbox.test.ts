// docker build's flags for RUN's container: --add-host in /etc/hosts, --ulimit in the process's
// limits, --shm-size on /dev/shm; each read from inside a RUN step.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { busyboxProject } from './project.js';

const STEPS = [
  'FROM base',
  'RUN cat /etc/hosts > /hosts && echo "$(ulimit -Sn) $(ulimit -Hn)" > /nofile && grep " /dev/shm " /proc/mounts > /shm',
];

t.test('--add-host, --ulimit and --shm-size reach every RUN step', async (t) => {
  const p = busyboxProject(t, STEPS);
  const out = path.join(p.dir, 'out');
  const r = p.build(['--add-host', 'db.internal:10.1.2.3', '--add-host', 'v6host:fd00::1', '--ulimit', 'nofile=512:2048',
    '--shm-size', '8m', '-o', `type=local,dest=${out}`]);
  t.equal(r.status, 0, r.stderr);
  const hosts = fs.readFileSync(path.join(out, 'hosts'), 'utf8');
  t.match(hosts, /^127\.0\.0\.1\tlocalhost buildkitsandbox$/m, 'the sandbox\'s own lines stay');
  t.match(hosts, /^10\.1\.2\.3\tdb\.internal$/m);
  t.match(hosts, /^fd00::1\tv6host$/m);
  t.equal(fs.readFileSync(path.join(out, 'nofile'), 'utf8'), '512 2048\n', 'ulimit -n inside the step');
  t.match(fs.readFileSync(path.join(out, 'shm'), 'utf8'), /\bsize=8192k\b/, '/dev/shm is 8 MiB');
  t.notOk(fs.existsSync(path.join(out, 'etc', 'hosts')), '/etc/hosts is a mount, not part of the image');

  const host = busyboxProject(t, STEPS);
  const hostOut = path.join(host.dir, 'out');
  const onHost = host.build(['--network', 'host', '--allow', 'network.host', '--add-host', 'db.internal:10.1.2.3', '-o', `type=local,dest=${hostOut}`]);
  t.equal(onHost.status, 0, onHost.stderr);
  const hostHosts = fs.readFileSync('/etc/hosts', 'utf8');
  t.equal(fs.readFileSync(path.join(hostOut, 'hosts'), 'utf8'), `${hostHosts}${hostHosts.endsWith('\n') ? '' : '\n'}10.1.2.3\tdb.internal\n`,
    'on the host\'s network: the host\'s /etc/hosts and the added line');
  t.equal(fs.readFileSync('/etc/hosts', 'utf8'), hostHosts, 'the host\'s file is untouched');

  const plain = busyboxProject(t, STEPS);
  const plainOut = path.join(plain.dir, 'out');
  t.equal(plain.build(['-o', `type=local,dest=${plainOut}`]).status, 0);
  t.notMatch(fs.readFileSync(path.join(plainOut, 'hosts'), 'utf8'), /db\.internal/, 'without the flags, nothing is added');
  t.match(fs.readFileSync(path.join(plainOut, 'shm'), 'utf8'), /\bsize=65536k\b/, 'the default /dev/shm');
});

t.test('bad --add-host, --ulimit and --shm-size values are refused by name', async (t) => {
  const p = busyboxProject(t, STEPS);
  const cases: [string[], string][] = [
    [['--add-host', 'nocolon'], '--add-host nocolon: expected HOST:IP'],
    [['--add-host', 'db:not-an-ip'], '--add-host db:not-an-ip: "not-an-ip" is not an IP address'],
    [['--ulimit', 'nofile=4096:1024'], '--ulimit nofile=4096:1024: the soft limit 4096 is above the hard limit 1024'],
    [['--ulimit', 'files=10'], '--ulimit files=10: unknown limit "files"'],
    [['--shm-size', 'lots'], 'invalid size "lots"'],
  ];
  for (const [flags, message] of cases) {
    const r = p.build(flags);
    t.equal(r.status, 1, flags.join(' '));
    t.match(r.stderr, new RegExp(`^tsbuild: error: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), flags.join(' '));
    t.equal(r.stderr.split('\n').length, 2, 'one line');
  }
  t.notOk(fs.existsSync(path.join(p.root, 'layout', 'index.json')) && fs.readFileSync(path.join(p.root, 'layout', 'index.json'), 'utf8').includes('ref.name'), 'nothing was tagged');
});
