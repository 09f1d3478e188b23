// tmpfs mounts as runc makes them, which podman relies on: "tmpcopyup" (podman's --tmpfs and
// --read-only) fills the tmpfs with the image's content at the destination, and a tmpfs on a
// directory of the image takes that directory's mode. Run side by side with runc; the image's
// symlinks are copied as symlinks, never followed to the host.
import fs from 'node:fs';
import t from 'tap';
import { baseSpec, makeBundle, RUNC, runtime, TSRUNC, uniqueId, type Teardown } from '../src/harness.js';

const SCRIPT = [
  'cat /data/file /data/sub/nested /data-ro/file',
  'readlink /data/absolute; readlink /data/escape',
  "stat -c '%n %a %u:%g' /data /data/file /data/sub /data-ro /fresh",
  '[ "$(ls /data/escape/)" = "$(ls /etc/)" ] && echo escape-resolves-inside',
  'touch /data/new && echo data-writable',
  'touch /data-ro/new 2>/dev/null || echo data-ro-read-only',
].join('; ');

function run(t: Teardown, binary: string): { stdout: string; hostProbe: string } {
  const spec = baseSpec(['sh', '-c', SCRIPT]);
  spec.root!.readonly = true;
  spec.mounts!.push(
    { destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'size=1m', 'nosuid', 'nodev', 'tmpcopyup'] },
    { destination: '/data-ro', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'tmpcopyup'] },
    { destination: '/fresh', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] },
  );
  const bundle = makeBundle(t, spec);
  const data = `${bundle.rootfs}/data`;
  fs.mkdirSync(`${data}/sub`, { recursive: true });
  fs.chmodSync(data, 0o750);
  fs.writeFileSync(`${data}/file`, 'from the image\n', { mode: 0o604 });
  fs.chownSync(`${data}/file`, 1000, 2000);
  fs.writeFileSync(`${data}/sub/nested`, 'nested\n');
  // The attack: symlinks that lead to the host's /etc if the copy followed them before pivot_root.
  fs.symlinkSync('/etc', `${data}/absolute`);
  fs.symlinkSync('../../../../../../etc', `${data}/escape`);
  fs.mkdirSync(`${bundle.rootfs}/data-ro`);
  fs.writeFileSync(`${bundle.rootfs}/data-ro/file`, 'read-only copy\n');
  const r = runtime(t, binary).call(['run', '--bundle', bundle.dir, uniqueId()]);
  if (r.status !== 0) throw new Error(`${binary} run exited with ${r.status}: ${r.stderr.trim()}`);
  return { stdout: r.stdout, hostProbe: fs.readdirSync(data).sort().join(' ') };
}

t.test('tmpcopyup and the image directory\'s mode, as runc', async (t) => {
  const hostEtc = fs.statSync('/etc');
  const ours = run(t, TSRUNC);
  t.equal(ours.stdout, [
    'from the image', 'nested', 'read-only copy',
    '/etc', '../../../../../../etc',
    '/data 750 0:0', '/data/file 604 1000:2000', '/data/sub 755 0:0', '/data-ro 755 0:0', '/fresh 1777 0:0',
    'escape-resolves-inside', 'data-writable', 'data-ro-read-only', '',
  ].join('\n'), 'content, symlinks as symlinks, modes, read-only after the copy');
  t.equal(ours.hostProbe, 'absolute escape file sub', 'the image\'s directory itself is untouched');
  t.same(fs.statSync('/etc').mtimeMs, hostEtc.mtimeMs, 'the host\'s /etc is untouched');
  t.equal(run(t, RUNC).stdout, ours.stdout, 'runc shows the same');
});
