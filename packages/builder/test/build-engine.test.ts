// tsbuild end to end: real builds into a store of the test's own, checked through the store, the
// cache, and the tools that read OCI images (skopeo, umoci) and run them (tsrunc).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { checkDocument } from '@tsrunc/spec-schemas';
import { busyboxProject, count, project, TSBUILD, TSRUNC } from './project.js';

t.test('metadata instructions set the image config', async (t) => {
  const p = project(t, { Dockerfile: [
    'ARG BASE=scratch', 'FROM $BASE', 'ENV A=1 B="two words"', 'LABEL x.y="z" other=$A', 'WORKDIR /app', 'WORKDIR sub',
    'USER 1000:1000', 'EXPOSE 80 53/udp', 'VOLUME /data', 'STOPSIGNAL SIGTERM', 'ENTRYPOINT ["/bin/run"]', 'CMD run --verbose',
  ].join('\n') });
  const r = p.build(['-t', 'meta:1', '-o', `type=oci,dest=${p.dir}/out`]);
  t.equal(r.status, 0, r.stderr);
  const index = JSON.parse(fs.readFileSync(`${p.dir}/out/index.json`, 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  t.equal(checkDocument('index', index), undefined, 'index.json is valid');
  t.equal(index.manifests[0]!.annotations['org.opencontainers.image.ref.name'], '1');
  const blob = (d: string) => JSON.parse(fs.readFileSync(`${p.dir}/out/blobs/sha256/${d.slice(7)}`, 'utf8'));
  const manifest = blob(index.manifests[0]!.digest);
  t.equal(checkDocument('manifest', manifest), undefined, 'the manifest is valid');
  const config = blob(manifest.config.digest);
  t.equal(checkDocument('imageConfig', config), undefined, 'the config is valid');
  t.match(config.config, {
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'B=two words'],
    Labels: { 'x.y': 'z', other: '1' }, WorkingDir: '/app/sub', User: '1000:1000',
    ExposedPorts: { '80/tcp': {}, '53/udp': {} }, Volumes: { '/data': {} }, StopSignal: 'SIGTERM',
    Entrypoint: ['/bin/run'], Cmd: ['/bin/sh', '-c', 'run --verbose'],
  });
  t.equal(config.history.length, 10, 'one history entry per instruction');
  const skopeo = spawnSync('skopeo', ['inspect', `oci:${p.dir}/out:1`], { encoding: 'utf8' });
  t.equal(skopeo.status, 0, `skopeo inspect: ${skopeo.stderr}`);
});

t.test('COPY, .dockerignore, the cache, reproducible digests, and the image run by tsrunc through umoci', async (t) => {
  const p = project(t, {
    Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY app/ /app/\nCOPY *.txt /docs/\nCMD ["/bin/busybox", "sh", "-c", "cat /app/msg /docs/*.txt; ls /app"]\n',
    '.dockerignore': 'app/secret\n*.log\n',
    'app/msg': 'hello\n',
    'app/secret': 'never in the image\n',
    'a.txt': 'A\n',
    'b.txt': 'B\n',
    'noise.log': 'ignored\n',
  });
  fs.copyFileSync('/bin/busybox', path.join(p.dir, 'ctx', 'busybox'));
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const first = p.build(['-t', 'copy:latest', '-o', `type=oci,dest=${p.dir}/out`], env);
  t.equal(first.status, 0, first.stderr);
  t.equal(count(first.stderr, 'CACHED'), 0, 'a cold build caches nothing');
  const again = p.build(['-t', 'copy:latest'], env);
  t.equal(count(again.stderr, 'CACHED'), 3, 'a rebuild with nothing changed is all cache hits');
  const digest = (s: string) => /built (sha256:[0-9a-f]{64})/.exec(s)?.[1];
  t.equal(digest(again.stderr), digest(first.stderr), 'the same digest with SOURCE_DATE_EPOCH');
  fs.writeFileSync(path.join(p.dir, 'ctx', 'app', 'msg'), 'changed\n');
  const changed = p.build(['-t', 'copy:latest'], env);
  t.equal(count(changed.stderr, 'CACHED'), 1, 'only the step before the changed file is cached');
  t.not(digest(changed.stderr), digest(first.stderr));

  const bundle = path.join(p.dir, 'bundle');
  const umoci = spawnSync('umoci', ['unpack', '--image', `${p.dir}/out:latest`, bundle], { encoding: 'utf8' });
  t.equal(umoci.status, 0, `umoci unpack: ${umoci.stderr}`);
  t.notOk(fs.existsSync(path.join(bundle, 'rootfs/app/secret')), '.dockerignore kept the secret out');
  const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  config.process.terminal = false;
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
  fs.chmodSync(p.dir, 0o755);
  const run = spawnSync(TSRUNC, ['--root', path.join(p.dir, 'state'), 'run', '--bundle', bundle, `tsbuild-test-${process.pid}`], { encoding: 'utf8' });
  t.equal(run.status, 0, `tsrunc run: ${run.stderr}`);
  t.equal(run.stdout, 'hello\nA\nB\nmsg\n', 'the container sees the copied files');
});

t.test('a rebuild from the cache gives the same image without SOURCE_DATE_EPOCH: each step keeps its time', async (t) => {
  const p = busyboxProject(t, ['ENV A=1', 'RUN echo one > /one', 'COPY msg /msg', 'LABEL x=y']);
  fs.writeFileSync(path.join(p.dir, 'ctx', 'msg'), 'first\n');
  const digest = (s: string) => /built (sha256:[0-9a-f]{64})/.exec(s)?.[1];
  const config = (out: string) => {
    const blob = (d: string) => JSON.parse(fs.readFileSync(`${p.dir}/${out}/blobs/sha256/${d.slice(7)}`, 'utf8'));
    const index = JSON.parse(fs.readFileSync(`${p.dir}/${out}/index.json`, 'utf8')) as { manifests: { digest: string }[] };
    return blob(blob(index.manifests[0]!.digest).config.digest) as { created: string; history: { created: string; created_by: string }[] };
  };
  const first = p.build(['-t', 'times:1', '-o', `type=oci,dest=${p.dir}/one`]);
  t.equal(first.status, 0, first.stderr);
  const again = p.build(['-t', 'times:1', '-o', `type=oci,dest=${p.dir}/two`]);
  t.equal(again.status, 0, again.stderr);
  t.equal(count(again.stderr, 'CACHED'), 4, 'every step from the cache');
  t.equal(digest(again.stderr), digest(first.stderr), 'the same image digest');
  t.same(config('two'), config('one'), 'the same config, times and all');
  const times = config('one');
  t.ok(times.history.every((h) => typeof h.created === 'string'), 'every history entry has a time');
  t.equal(times.created, times.history.at(-1)!.created, 'the image was created when its last step was');

  fs.writeFileSync(path.join(p.dir, 'ctx', 'msg'), 'second\n');
  const changed = p.build(['-t', 'times:1', '-o', `type=oci,dest=${p.dir}/three`]);
  t.equal(changed.status, 0, changed.stderr);
  t.not(digest(changed.stderr), digest(first.stderr));
  const after = config('three');
  const at = (c: typeof after, prefix: string) => c.history.find((h) => h.created_by.startsWith(prefix))!.created;
  t.equal(at(after, 'RUN /bin/sh -c echo one'), at(times, 'RUN /bin/sh -c echo one'), 'a cached step keeps its time');
  t.ok(at(after, 'COPY msg') > at(times, 'COPY msg'), 'the step built again has a new one');
});

t.test('--target builds only what the target needs', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch AS a\nCOPY x /x\nFROM scratch AS unused\nCOPY y /y\nFROM scratch AS final\nCOPY --from=a /x /copied\n', x: 'x', y: 'y' });
  const r = p.build(['--target', 'final', '-t', 'target:1']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /\[a 2\/2\] COPY x \/x/);
  t.notMatch(r.stderr, /\[unused/, 'the unused stage is not built');
  const missing = p.build(['--target', 'nope']);
  t.equal(missing.status, 1);
  t.match(missing.stderr, /target stage "nope" could not be found/);
});

t.test('a bad Dockerfile fails with its line and tags nothing', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY missing /x\n' });
  const r = p.build(['-t', 'bad:1']);
  t.equal(r.status, 1);
  t.match(r.stderr, /tsbuild: error: Dockerfile:2: COPY: "missing": not found in the build context/);
  const images = spawnSync(TSBUILD, ['images', '--root', p.root], { encoding: 'utf8' });
  t.notMatch(images.stdout, /bad:1/, 'nothing tagged');
  const syntax = project(t, { Dockerfile: 'FROM scratch\nFROBNICATE x\n' }).build([]);
  t.equal(syntax.status, 1);
  t.match(syntax.stderr, /Dockerfile:2: unknown instruction: FROBNICATE/i);
});

t.test('--print ast dumps the parsed Dockerfile', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch AS base\nENV A=1\n' });
  const r = p.build(['--print', 'ast']);
  t.equal(r.status, 0, r.stderr);
  const ast = JSON.parse(r.stdout) as { stages: { name: string; instructions: { kind: string }[] }[] };
  t.equal(ast.stages[0]!.name, 'base');
  t.equal(ast.stages[0]!.instructions[0]!.kind, 'ENV');
});

t.test('RUN runs in a tsrunc container on an overlay: output, ARG/ENV/USER/WORKDIR, whiteouts, cache, failures', async (t) => {
  const p = project(t, {
    Dockerfile: [
      'FROM scratch AS base', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      'FROM base', 'ARG WHO=world', 'ENV KEEP=yes', 'WORKDIR /work',
      'RUN echo "hello $WHO $KEEP" > greeting && rm /bin/sed && echo step-output',
      'USER 1000:1000', 'RUN id -u > uid.txt || echo "cannot write as 1000" > /dev/null; echo done',
      'CMD ["cat", "/work/greeting"]', '',
    ].join('\n'),
  });
  fs.copyFileSync('/bin/busybox', path.join(p.dir, 'ctx', 'busybox'));
  const first = p.build(['-t', 'run:1', '--build-arg', 'WHO=tsbuild']);
  t.equal(first.status, 0, first.stderr);
  t.match(first.stderr, /^#\d+ [\d.]+ step-output$/m, 'RUN output is shown, prefixed like BuildKit');
  const again = p.build(['-t', 'run:1', '--build-arg', 'WHO=tsbuild']);
  t.equal(count(again.stderr, 'CACHED'), 5, 'RUN steps (and WORKDIR\'s directory) are cached too');
  const bundle = path.join(p.dir, 'bundle');
  const unpack = spawnSync(TSBUILD, ['unpack', '--root', p.root, 'run:1', bundle], { encoding: 'utf8' });
  t.equal(unpack.status, 0, unpack.stderr);
  t.equal(fs.readFileSync(path.join(bundle, 'rootfs/work/greeting'), 'utf8'), 'hello tsbuild yes\n', 'ARG and ENV reach RUN; WORKDIR is created');
  t.notOk(fs.existsSync(path.join(bundle, 'rootfs/bin/sed')), 'rm in RUN became a whiteout');
  t.ok(fs.existsSync(path.join(bundle, 'rootfs/bin/ls')), 'the rest of the parent layer is there');
  t.notOk(fs.existsSync(path.join(bundle, 'rootfs/etc/resolv.conf')), 'the mount points of RUN are not in the layer');
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  t.notOk(mounts.includes(p.tmpdir), 'no overlay left mounted');

  const failing = project(t, { Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo about to fail; exit 3"]\n' });
  fs.copyFileSync('/bin/busybox', path.join(failing.dir, 'ctx', 'busybox'));
  const r = failing.build(['-t', 'fail:1']);
  t.equal(r.status, 1);
  t.match(r.stderr, /Dockerfile:3: process ".*exit 3" did not complete successfully: exit code: 3/);
  t.match(r.stderr, /about to fail/, 'the last output lines are shown');
  const images = spawnSync(TSBUILD, ['images', '--root', failing.root], { encoding: 'utf8' });
  t.notMatch(images.stdout, /fail:1/, 'nothing tagged');
});

t.test('RUN --mount: a cache persists across builds, a secret is readable but in no layer, tmpfs and bind', async (t) => {
  const p = project(t, {
    Dockerfile: [
      'FROM scratch AS base', 'COPY busybox /bin/busybox', 'RUN ["/bin/busybox", "--install", "-s", "/bin"]', 'FROM base',
      'RUN --mount=type=cache,target=/cache sh -c \'echo run >> /cache/count; echo "runs: $(wc -l < /cache/count)"\'',
      'RUN --mount=type=secret,id=token sh -c \'echo "secret: $(cat /run/secrets/token | wc -c) bytes"\'',
      'RUN --mount=type=tmpfs,target=/scratch sh -c \'echo x > /scratch/x && ls /scratch\'',
      'RUN --mount=type=bind,source=data.txt,target=/data.txt cat /data.txt',
      'CMD ["ls", "/"]', '',
    ].join('\n'),
    'data.txt': 'bound from the context\n',
  });
  fs.copyFileSync('/bin/busybox', path.join(p.dir, 'ctx', 'busybox'));
  const secret = path.join(p.dir, 'secret.txt');
  fs.writeFileSync(secret, 'TOP-SECRET-VALUE\n');
  const first = p.build(['-t', 'mounts:1', '--secret', `id=token,src=${secret}`]);
  t.equal(first.status, 0, first.stderr);
  t.match(first.stderr, / runs: 1$/m);
  t.match(first.stderr, / secret: 17 bytes$/m);
  t.match(first.stderr, / bound from the context$/m);
  const second = p.build(['--no-cache', '-t', 'mounts:1', '--secret', `id=token,src=${secret}`]);
  t.match(second.stderr, / runs: 2$/m, 'the cache mount kept the first build\'s file');
  const blobs = path.join(p.root, 'layout', 'blobs', 'sha256');
  const leaked = fs.readdirSync(blobs).filter((hex) => {
    const r = spawnSync('sh', ['-c', `zcat -f ${path.join(blobs, hex)} | grep -c TOP-SECRET-VALUE`], { encoding: 'utf8' });
    return r.stdout.trim() !== '0';
  });
  t.same(leaked, [], 'the secret is in no blob');
  const bundle = path.join(p.dir, 'bundle');
  t.equal(spawnSync(TSBUILD, ['unpack', '--root', p.root, 'mounts:1', bundle]).status, 0, 'unpack');
  for (const mountPoint of ['run', 'cache', 'scratch', 'data.txt']) {
    t.notOk(fs.existsSync(path.join(bundle, 'rootfs', mountPoint)), `the mount point /${mountPoint} is not in the image`);
  }
  const missing = p.build(['-t', 'mounts:2']);
  t.equal(missing.status, 0, 'a secret that is not given is skipped unless required');
});

t.test('COPY --chown resolves names in the image\'s passwd and group files', async (t) => {
  const p = project(t, {
    Dockerfile: [
      'FROM scratch', 'COPY etc/ /etc/', 'COPY --chown=app a.txt /a.txt', 'COPY --chown=app:extra b.txt /b.txt',
      'COPY --chown=7:8 c.txt /c.txt', 'COPY --chown=nobody d.txt /d.txt', 'CMD ["x"]', '',
    ].join('\n'),
    'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n',
    'etc/group': 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n',
    'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c', 'd.txt': 'd',
  });
  const ok = p.build(['-t', 'chown:1', '-o', `type=oci,dest=${p.dir}/out`]);
  t.equal(ok.status, 1, 'an unknown user fails the build');
  t.match(ok.stderr, /Dockerfile:6: unable to find user nobody/);
  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), fs.readFileSync(path.join(p.dir, 'ctx', 'Dockerfile'), 'utf8').replace('COPY --chown=nobody d.txt /d.txt\n', ''));
  const r = p.build(['-t', 'chown:1']);
  t.equal(r.status, 0, r.stderr);
  const bundle = path.join(p.dir, 'bundle');
  t.equal(spawnSync(TSBUILD, ['unpack', '--root', p.root, 'chown:1', bundle]).status, 0, 'unpack');
  const owner = (f: string) => { const s = fs.statSync(path.join(bundle, 'rootfs', f)); return `${s.uid}:${s.gid}`; };
  t.equal(owner('a.txt'), '1000:1000', 'a user alone: its uid as gid too');
  t.equal(owner('b.txt'), '1000:2000', 'user and group names');
  t.equal(owner('c.txt'), '7:8', 'numbers as given');
});

t.test('COPY --from an image of the local store or an OCI layout', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY x /from-base/x\nCMD ["x"]\n', x: 'from the base image\n' });
  t.equal(p.build(['-t', 'base-image:1', '-o', `type=oci,dest=${p.dir}/layout`]).status, 0);
  fs.writeFileSync(path.join(p.dir, 'ctx', 'Dockerfile'),
    `FROM scratch\nCOPY --from=base-image:1 /from-base/x /store-copy\nCOPY --from=oci-layout://${p.dir}/layout:1 /from-base/x /layout-copy\nCMD ["x"]\n`);
  const r = p.build(['-t', 'copier:1']);
  t.equal(r.status, 0, r.stderr);
  const bundle = path.join(p.dir, 'bundle');
  t.equal(spawnSync(TSBUILD, ['unpack', '--root', p.root, 'copier:1', bundle]).status, 0, 'unpack');
  t.equal(fs.readFileSync(path.join(bundle, 'rootfs/store-copy'), 'utf8'), 'from the base image\n');
  t.equal(fs.readFileSync(path.join(bundle, 'rootfs/layout-copy'), 'utf8'), 'from the base image\n');
});

t.test('prune removes what nothing uses, and --keep-storage evicts the oldest cache entries', async (t) => {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY big /big\nCMD ["x"]\n', big: 'x'.repeat(200_000) });
  const blobs = () => fs.readdirSync(path.join(p.root, 'layout', 'blobs', 'sha256')).length;
  t.equal(p.build(['-t', 'p:1']).status, 0);
  fs.writeFileSync(path.join(p.dir, 'ctx', 'big'), 'y'.repeat(200_000));
  t.equal(p.build([]).status, 0, 'an untagged build leaves a cached layer behind');
  const before = blobs();
  const keepAll = spawnSync(TSBUILD, ['prune', '--root', p.root], { encoding: 'utf8' });
  t.equal(keepAll.status, 0, keepAll.stderr);
  t.equal(blobs(), before, 'cached layers are kept without a limit');
  const tight = spawnSync(TSBUILD, ['prune', '--root', p.root, '--keep-storage', '1KB'], { encoding: 'utf8' });
  t.equal(tight.status, 0, tight.stderr);
  t.ok(blobs() < before, `a size limit removed blobs (${tight.stdout.trim()})`);
  t.equal(spawnSync(TSBUILD, ['unpack', '--root', p.root, 'p:1', path.join(p.dir, 'bundle')]).status, 0, 'tagged images survive any prune');
  t.equal(spawnSync(TSBUILD, ['prune', '--root', p.root, '--keep-storage', 'lots']).status, 1, 'a bad size is refused');
});

t.test('Ctrl-C during RUN stops the container and leaves no mount, process or tag', async (t) => {
  const marker = `tsbuild-interrupt-${process.pid}`;
  const p = project(t, { Dockerfile: `FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "sh", "-c", "echo started; exec /bin/busybox sleep 60 ${marker}"]\n` });
  fs.copyFileSync('/bin/busybox', path.join(p.dir, 'ctx', 'busybox'));
  const { spawn } = await import('node:child_process');
  const child = spawn(TSBUILD, ['build', '--root', p.root, '-t', 'interrupted:1', path.join(p.dir, 'ctx')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: p.tmpdir } });
  let stderr = '';
  await new Promise<void>((resolve) => child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.includes(' started')) resolve();
  }));
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.not(code, 0, 'the build fails');
  t.match(stderr, /interrupted/);
  const running = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker); } catch { return false; }
  });
  t.same(running, [], 'the RUN process is gone');
  t.notOk(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(p.tmpdir), 'no overlay left mounted');
  const images = spawnSync(TSBUILD, ['images', '--root', p.root], { encoding: 'utf8' });
  t.notMatch(images.stdout, /interrupted:1/, 'nothing tagged');
});

t.test('stages that do not depend on each other build in parallel', async (t) => {
  // Each side marks itself in a shared cache mount and waits (up to 10 s) for the other's mark:
  // built one after the other, the first would give up and fail the build.
  const rendezvous = (me: string, other: string) =>
    `RUN --mount=type=cache,id=sync,target=/sync ["/bin/busybox", "sh", "-c", "/bin/busybox touch /sync/${me}; i=0; while [ $i -lt 100 ]; do [ -e /sync/${other} ] && exit 0; /bin/busybox sleep 0.1; i=$((i+1)); done; exit 1"]`;
  const p = project(t, {
    Dockerfile: [
      'FROM scratch AS tools', 'COPY busybox /bin/busybox',
      'FROM tools AS left', rendezvous('left', 'right'),
      'FROM tools AS right', rendezvous('right', 'left'),
      'FROM scratch', 'COPY --from=left /bin/busybox /left', 'COPY --from=right /bin/busybox /right', 'CMD ["x"]', '',
    ].join('\n'),
  });
  fs.copyFileSync('/bin/busybox', path.join(p.dir, 'ctx', 'busybox'));
  const r = p.build(['-t', 'parallel:1']);
  t.equal(r.status, 0, `both sides saw each other: ${r.stderr.slice(-500)}`);
});
