// Where COPY puts things, as BuildKit's copy does: the directories it makes on the way to a
// destination take --chown's owner and --chmod's mode (else 0755), those that exist keep theirs;
// a destination under a symlink of the image (/var/run -> /run) is followed inside the image,
// and the link stays a link; never out of the image onto the host.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { busyboxProject } from './project.js';

const lines = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n');

t.test('COPY --chown makes the missing parents of its destination owned by the user, existing ones untouched', async (t) => {
  const p = busyboxProject(t, [
    'FROM base',
    'RUN mkdir -p /exists && chmod 700 /exists && chown 5:6 /exists',
    'COPY --chown=1000:1001 f /a/b/c/f',
    'COPY --chown=1000:1001 f /exists/new/f',
    'COPY --chown=7:8 --chmod=750 f /m/n/f',
    'COPY --chown=1000:1001 d /newdir/',
    'COPY f /rootmade/x/f',
    'RUN stat -c "%n %a %u:%g" /a /a/b /a/b/c /a/b/c/f /exists /exists/new /exists/new/f /m /m/n /m/n/f /newdir /newdir/sub /newdir/sub/g /rootmade /rootmade/x > /report',
  ], { f: 'file\n', 'd/sub/g': 'g\n' });
  fs.chmodSync(path.join(p.dir, 'ctx', 'd'), 0o700);
  fs.chmodSync(path.join(p.dir, 'ctx', 'd', 'sub'), 0o750);
  const r = p.build(['-t', 'parents:1']);
  t.equal(r.status, 0, r.stderr);
  const report = lines(path.join(p.unpack('parents:1'), 'report'));
  t.same(report.slice(0, 4), ['/a 755 1000:1001', '/a/b 755 1000:1001', '/a/b/c 755 1000:1001', '/a/b/c/f 644 1000:1001'], 'made parents: the user\'s, 0755');
  t.same(report.slice(4, 7), ['/exists 700 5:6', '/exists/new 755 1000:1001', '/exists/new/f 644 1000:1001'], 'an existing parent keeps its owner and mode');
  t.same(report.slice(7, 10), ['/m 750 7:8', '/m/n 750 7:8', '/m/n/f 750 7:8'], '--chmod is the made parents\' mode too');
  t.same(report.slice(10, 13), ['/newdir 755 1000:1001', '/newdir/sub 750 1000:1001', '/newdir/sub/g 644 1000:1001'],
    'a directory\'s destination is made as a parent (0755, not the source\'s 0700); what is below it has the source\'s mode');
  t.same(report.slice(13), ['/rootmade 755 0:0', '/rootmade/x 755 0:0'], 'without --chown, root\'s');
});

t.test('COPY to a destination below a symlink of the image follows it inside the image, never onto the host', async (t) => {
  const host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-host-'));
  t.teardown(() => fs.rmSync(host, { recursive: true, force: true }));
  fs.writeFileSync(path.join(host, 'marker'), 'host\n');
  fs.chmodSync(path.join(host, 'marker'), 0o600);
  const before = fs.statSync(path.join(host, 'marker'));
  const p = busyboxProject(t, [
    'FROM base',
    `RUN mkdir -p /run /var ${host} && ln -s /run /var/run && ln -s ../run /var/rel && ln -s ${host} /var/escape`,
    'COPY f /var/run/x.pid',
    'COPY d/ /var/rel/dir/',
    'COPY f /var/escape/f',
    'COPY --chown=3:3 f /var/run/deep/er/f',
    'RUN { stat -c "%n %F" /var/run /var/rel /var/escape; ls /run; ls /run/dir; ls /run/deep/er; stat -c "%n %a %u:%g" /run /run/deep; } > /report',
  ], { f: 'file\n', 'd/g': 'g\n' });
  const r = p.build(['-t', 'links:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('links:1');
  t.same(lines(path.join(rootfs, 'report')), [
    '/var/run symbolic link', '/var/rel symbolic link', '/var/escape symbolic link',
    'deep', 'dir', 'x.pid', 'g', 'f',
    '/run 755 0:0', '/run/deep 755 3:3',
  ], 'the links stay links; what was copied through them is in /run, the parents made there the user\'s, /run untouched');
  t.equal(fs.readFileSync(path.join(rootfs, host.slice(1), 'f'), 'utf8'), 'file\n', 'an absolute link is followed inside the image');
  t.same(fs.readdirSync(host), ['marker'], 'nothing appears in the host directory the link names');
  const after = fs.statSync(path.join(host, 'marker'));
  t.same([fs.readFileSync(path.join(host, 'marker'), 'utf8'), after.mode, after.mtimeMs], ['host\n', before.mode, before.mtimeMs], 'the host\'s marker keeps its content, mode and mtime');
});
