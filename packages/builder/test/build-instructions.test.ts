// Instructions whose effect reaches past their own step: ONBUILD triggers, SHELL and WORKDIR in
// children, RUN heredocs, and RUN --security=insecure behind its entitlement. Real builds, with
// busybox as the image's userland, read back from the unpacked image.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { busyboxProject } from './project.js';

/** A stage "base" with busybox installed, then `rest`. */
function imageConfig(p: { dir: string }, out: string): { config: Record<string, unknown>; history: { created_by: string; empty_layer?: boolean }[] } {
  const blob = (digest: string) => JSON.parse(fs.readFileSync(path.join(p.dir, out, 'blobs/sha256', digest.slice(7)), 'utf8'));
  const index = JSON.parse(fs.readFileSync(path.join(p.dir, out, 'index.json'), 'utf8'));
  return blob(blob(index.manifests[0].digest).config.digest);
}

t.test('ONBUILD triggers run in the child stage, once, and are not passed on', async (t) => {
  const p = busyboxProject(t, [
    'FROM base AS parent',
    'ONBUILD RUN echo triggered >> /onbuild.log',
    'ONBUILD ENV FROM_TRIGGER=yes',
    'FROM parent AS child',
    'RUN echo "child sees FROM_TRIGGER=$FROM_TRIGGER" > /child.txt',
    'FROM child AS grandchild',
    'RUN cat /onbuild.log > /grandchild.txt',
  ]);
  const r = p.build(['-t', 'parent:1', '--target', 'parent', '-o', `type=oci,dest=${p.dir}/parent`]);
  t.equal(r.status, 0, r.stderr);
  const parent = imageConfig(p, 'parent');
  t.same(parent.config.OnBuild, ['RUN echo triggered >> /onbuild.log', 'ENV FROM_TRIGGER=yes'], 'the triggers are stored in the config as written');
  t.ok(parent.history.some((h) => h.created_by === 'ONBUILD RUN echo triggered >> /onbuild.log' && h.empty_layer), 'ONBUILD has an empty-layer history entry');
  t.notOk(fs.existsSync(path.join(p.unpack('parent:1'), 'onbuild.log')), 'the triggers do not run in the stage that declares them');

  const g = p.build(['-t', 'grandchild:1', '-o', `type=oci,dest=${p.dir}/grandchild`]);
  t.equal(g.status, 0, g.stderr);
  t.match(g.stderr, /\[child 2\/4\] ONBUILD RUN echo triggered >> \/onbuild\.log/, 'the trigger is a step of the child, numbered with it');
  const rootfs = p.unpack('grandchild:1');
  t.equal(fs.readFileSync(path.join(rootfs, 'child.txt'), 'utf8'), 'child sees FROM_TRIGGER=yes\n', 'an ENV trigger applies to the child');
  t.equal(fs.readFileSync(path.join(rootfs, 'grandchild.txt'), 'utf8'), 'triggered\n', 'the RUN trigger ran once: in the child, not again in the grandchild');
  t.equal(imageConfig(p, 'grandchild').config.OnBuild, undefined, 'the child does not pass the triggers on');
});

t.test('a bad ONBUILD trigger in a base fails at the child\'s FROM line', async (t) => {
  const p = busyboxProject(t, ['FROM base AS parent', 'ONBUILD RUN true', 'FROM parent']);
  const layout = path.join(p.dir, 'layout');
  t.equal(p.build(['--target', 'parent', '-o', `type=oci,dest=${layout}`]).status, 0);
  // A base image from an OCI layout whose trigger is not a Dockerfile instruction.
  const indexPath = path.join(layout, 'index.json');
  const index = JSON.parse(fs.readFileSync(indexPath, 'utf8'));
  const blobPath = (d: string) => path.join(layout, 'blobs/sha256', d.slice(7));
  const manifest = JSON.parse(fs.readFileSync(blobPath(index.manifests[0].digest), 'utf8'));
  const image = JSON.parse(fs.readFileSync(blobPath(manifest.config.digest), 'utf8'));
  image.config.OnBuild = ['FETCH something'];
  const write = (doc: unknown) => {
    const text = JSON.stringify(doc);
    const digest = `sha256:${createHash('sha256').update(text).digest('hex')}`;
    fs.writeFileSync(blobPath(digest), text);
    return { digest, size: Buffer.byteLength(text) };
  };
  manifest.config = { ...manifest.config, ...write(image) };
  index.manifests[0] = { ...index.manifests[0], ...write(manifest), annotations: { 'org.opencontainers.image.ref.name': 'bad' } };
  fs.writeFileSync(indexPath, JSON.stringify(index));
  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), `# a child of a bad base\nFROM oci-layout://${layout}:bad\nRUN true\n`);
  const r = p.build(['-t', 'child:1']);
  t.equal(r.status, 1);
  t.match(r.stderr, /Dockerfile:2: ONBUILD trigger "FETCH something" of the base: unknown instruction: FETCH/);
});

t.test('SHELL is kept in the config and applies to a child stage', async (t) => {
  const p = busyboxProject(t, [
    'FROM base AS shell', 'SHELL ["/bin/sh", "-ec"]',
    'FROM shell', 'RUN echo "$0 $-" > /shell.txt',
  ]);
  const r = p.build(['-t', 'shell:1', '-o', `type=oci,dest=${p.dir}/out`]);
  t.equal(r.status, 0, r.stderr);
  t.same(imageConfig(p, 'out').config.Shell, ['/bin/sh', '-ec']);
  t.match(fs.readFileSync(path.join(p.unpack('shell:1'), 'shell.txt'), 'utf8'), /^\/bin\/sh .*e/, 'the child\'s RUN ran with -e');
});

t.test('WORKDIR creates its directory, owned by the USER, only when missing', async (t) => {
  const p = busyboxProject(t, [
    'FROM base', 'RUN mkdir -p /srv/real && ln -s /srv/real /linked && chmod 0750 /srv',
    'WORKDIR /linked/app', 'USER 1000:1000', 'WORKDIR owned', 'WORKDIR /srv',
  ]);
  const r = p.build(['-t', 'workdir:1', '-o', `type=oci,dest=${p.dir}/out`]);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('workdir:1');
  t.ok(fs.statSync(path.join(rootfs, 'srv/real/app')).isDirectory(), 'created through the image\'s symlink, inside the image');
  t.ok(fs.lstatSync(path.join(rootfs, 'linked')).isSymbolicLink(), 'the symlink stays a symlink');
  const owned = fs.statSync(path.join(rootfs, 'srv/real/app/owned'));
  t.same([owned.uid, owned.gid, owned.mode & 0o7777], [1000, 1000, 0o755], 'owned by the USER of the moment, mode 0755');
  t.equal(fs.statSync(path.join(rootfs, 'srv')).mode & 0o7777, 0o750, 'an existing parent keeps its mode');
  const history = imageConfig(p, 'out').history.filter((h) => h.created_by.startsWith('WORKDIR'));
  t.same(history.map((h) => [h.created_by, h.empty_layer ?? false]), [
    ['WORKDIR /linked/app', false], ['WORKDIR /linked/app/owned', false], ['WORKDIR /srv', true],
  ], 'an existing directory makes no layer');
});

t.test('RUN heredocs: a script, a script with #!, and heredocs fed to a command', async (t) => {
  const p = busyboxProject(t, [
    'FROM base',
    'ARG WHO=heredoc',
    'RUN <<EOF', 'echo "script by $WHO" > /script.txt', 'echo second line >> /script.txt', 'EOF',
    'RUN <<EOF', '#!/bin/awk -f', 'BEGIN { print "run by awk" > "/awk.txt" }', 'EOF',
    'RUN cat <<A > /fed.txt && cat <<\'B\' >> /fed.txt', 'first $WHO', 'A', 'second $WHO', 'B',
    'RUN sh <<-EOF', '\techo "stdin of sh, tabs stripped" > /stdin.txt', '\tEOF',
  ]);
  const r = p.build(['-t', 'heredoc:1']);
  t.equal(r.status, 0, r.stderr);
  const rootfs = p.unpack('heredoc:1');
  const read = (file: string) => fs.readFileSync(path.join(rootfs, file), 'utf8');
  t.equal(read('script.txt'), 'script by heredoc\nsecond line\n', 'the heredoc is the shell\'s script');
  t.equal(read('awk.txt'), 'run by awk\n', 'a #! script runs with its own interpreter');
  t.equal(read('fed.txt'), 'first heredoc\nsecond $WHO\n', 'heredocs feed the command; a quoted delimiter is not expanded');
  t.equal(read('stdin.txt'), 'stdin of sh, tabs stripped\n');
  t.notOk(fs.existsSync(path.join(rootfs, 'dev/pipes')), 'the script\'s mount point is not in the image');
});

t.test('RUN --security=insecure needs --allow security.insecure, and then has every capability', async (t) => {
  const p = busyboxProject(t, [
    'FROM base',
    'RUN --security=insecure mkdir /m && mount -t tmpfs none /m && grep CapEff /proc/self/status > /caps.txt && umount /m',
    'RUN grep CapEff /proc/self/status > /sandbox-caps.txt; mount -t tmpfs none /mnt 2>/dev/null && echo mounted > /sandbox-mount.txt; true',
  ]);
  const refused = p.build(['-t', 'insecure:1']);
  t.equal(refused.status, 1);
  t.match(refused.stderr, /Dockerfile:6: RUN --security=insecure is not allowed: the build must be started with --allow security.insecure/);
  const allowed = p.build(['-t', 'insecure:1', '--allow', 'security.insecure']);
  t.equal(allowed.status, 0, allowed.stderr);
  const rootfs = p.unpack('insecure:1');
  const capEff = (file: string) => BigInt('0x' + fs.readFileSync(path.join(rootfs, file), 'utf8').split(/\s+/)[1]);
  const SYS_ADMIN = 1n << 21n;
  t.ok(capEff('caps.txt') & SYS_ADMIN, 'the insecure step has CAP_SYS_ADMIN and could mount');
  t.notOk(capEff('sandbox-caps.txt') & SYS_ADMIN, 'the next step is sandboxed again');
  t.notOk(fs.existsSync(path.join(rootfs, 'sandbox-mount.txt')), 'a sandboxed step cannot mount');
  const bogus = p.build(['--allow', 'everything']);
  t.equal(bogus.status, 1);
  t.match(bogus.stderr, /--allow everything: unknown entitlement/);
});
