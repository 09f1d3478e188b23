// blkio weights on a kernel without CFQ (removed in 5.0): the v1 manager writes BFQ's files, as
// runc does, on a real loop device switched to the bfq scheduler; and a control file that does
// not exist is reported missing, not as cgroupfs' EACCES for an O_CREAT. Needs root and v1.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import t from 'tap';
import { detectCgroupMode, openCgroup } from '../src/cgroups/index.js';
import { writeCgroupFile } from '../src/cgroups/files.js';

const mode = detectCgroupMode();
const blkio = mode.v1Mounts['blkio'];
const cfq = blkio !== undefined && fs.existsSync(path.join(blkio.mountpoint, 'blkio.weight'));
const skip = mode.version !== 1 || blkio === undefined ? 'no cgroup v1 blkio hierarchy' : cfq ? 'this kernel has CFQ' : false;

t.test('blkio weight and weight_device fall back to BFQ files', { skip }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-bfq-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const backing = path.join(dir, 'backing.img');
  fs.writeFileSync(backing, Buffer.alloc(4096));
  const loop = spawnSync('losetup', ['--find', '--show', backing], { encoding: 'utf8' });
  if (loop.status !== 0) return t.comment(`skipped: no loop device: ${loop.stderr.trim()}`);
  const dev = loop.stdout.trim();
  t.teardown(() => { spawnSync('losetup', ['-d', dev]); });
  const scheduler = `/sys/block/${path.basename(dev)}/queue/scheduler`;
  if (!fs.readFileSync(scheduler, 'utf8').includes('bfq')) return t.comment("skipped: the bfq scheduler is not available");
  fs.writeFileSync(scheduler, 'bfq');
  const [major, minor] = fs.readFileSync(`/sys/block/${path.basename(dev)}/dev`, 'utf8').trim().split(':').map(Number) as [number, number];

  const cg = openCgroup({ id: `tsrunc-bfq-${process.pid}`, systemd: false, resources: { blockIO: { weight: 333, weightDevice: [{ major, minor, weight: 444 }] } } });
  t.teardown(() => cg.destroy());
  cg.create();
  const own = cg.toJSON().paths['blkio']!;
  const weights = fs.readFileSync(path.join(own, 'blkio.bfq.weight_device'), 'utf8');
  t.match(weights, /default 333/, 'the weight is BFQ\'s default');
  t.match(weights, new RegExp(`^${major}:${minor} 444$`, 'm'), 'the device has its own');
});

t.test('writing a control file that does not exist says so', { skip: blkio === undefined && 'no blkio hierarchy' }, async (t) => {
  t.throws(() => writeCgroupFile(blkio!.mountpoint, 'blkio.no_such_file', 1), /blkio\.no_such_file does not exist: the controller or feature is not available/);
  t.notOk(fs.existsSync(path.join(blkio!.mountpoint, 'blkio.no_such_file')));
});
