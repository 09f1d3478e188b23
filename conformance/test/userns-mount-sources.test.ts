// Bind mounts of a container with a user namespace whose sources sit below a directory only the
// host's root may enter (0700): the container's mapped root cannot reach them by name, so tsrunc
// opens them itself and hands the container's process fds, as runc does. The container gets exactly the
// sources it was given, with their options (read-only stays read-only), and nothing more.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Spec } from '@tsrunc/spec-schemas';
import { baseSpec, makeBundle, RUNC, runtime, uniqueId, type Teardown } from '../src/harness.js';

/** A 0700 directory holding a file and a directory with a file, removed at the test's end. */
function privateSources(t: Teardown): { dir: string; file: string; subdir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-private-')); // 0700, root's
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'file');
  fs.writeFileSync(file, 'host content\n', { mode: 0o644 });
  const subdir = path.join(dir, 'subdir');
  fs.mkdirSync(subdir, { mode: 0o755 });
  fs.writeFileSync(path.join(subdir, 'inner'), 'inner content\n', { mode: 0o644 });
  return { dir, file, subdir };
}

function usernsSpec(script: string, mounts: Spec['mounts']): Spec {
  const spec = baseSpec(['sh', '-c', script]);
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.mounts!.push(...mounts!);
  return spec;
}

t.test('a userns container binds a file and a directory from below a 0700 directory, as with runc', async (t) => {
  const sources = privateSources(t);
  const before = fs.statSync(sources.file);
  const spec = usernsSpec(
    'cat /mnt/file /mnt/dir/inner; id -u; echo changed > /mnt/file 2>/dev/null || echo read-only; ls /mnt/dir',
    [
      { source: sources.file, destination: '/mnt/file', options: ['bind', 'ro'] },
      { source: sources.subdir, destination: '/mnt/dir', options: ['rbind'] },
    ],
  );
  const bundle = makeBundle(t, spec);
  // The mapped root cannot create mount points in the host root's rootfs: they exist, as in runc's userns.bats.
  fs.mkdirSync(path.join(bundle.rootfs, 'mnt/dir'), { recursive: true });
  fs.writeFileSync(path.join(bundle.rootfs, 'mnt/file'), '');
  for (const binary of [undefined, RUNC]) {
    const rt = runtime(t, binary);
    const run = rt.call(['run', '--bundle', bundle.dir, uniqueId('userns-src')]);
    t.equal(run.status, 0, `${rt.name} run: ${run.stderr}`);
    t.equal(run.stdout, 'host content\ninner content\n0\nread-only\ninner\n', `${rt.name}: both sources seen, the read-only one kept read-only`);
  }
  const after = fs.statSync(sources.file);
  t.equal(fs.readFileSync(sources.file, 'utf8'), 'host content\n', "the host's file keeps its content");
  t.equal(after.mode, before.mode, "and its mode");
  t.equal(after.mtimeMs, before.mtimeMs, 'and its mtime');
  t.same(fs.readdirSync(sources.dir).sort(), ['file', 'subdir'], 'nothing appeared beside the sources');
});

t.test('a missing source below a 0700 directory fails create naming it, and leaves nothing', async (t) => {
  const sources = privateSources(t);
  const missing = path.join(sources.dir, 'missing');
  const bundle = makeBundle(t, usernsSpec('true', [{ source: missing, destination: '/mnt/missing', options: ['bind'] }]));
  const rt = runtime(t);
  const id = uniqueId('userns-src');
  const run = rt.call(['run', '--bundle', bundle.dir, id]);
  t.not(run.status, 0, 'run fails');
  t.match(run.stderr, `bind source ${missing} does not exist`, 'naming the source');
  t.equal(run.stderr.trim().split('\n').length, 1, 'in one line');
  t.same(fs.readdirSync(rt.root), [], 'no state is left');
  t.notOk(fs.existsSync(`/sys/fs/cgroup/pids/${id}`), 'nor a cgroup');
});
