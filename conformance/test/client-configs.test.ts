// The corpus of config.json documents that dockerd, containerd's ctr and podman really send
// (conformance/fixtures/client-configs, captured by capture.sh from runs that runc accepted):
// each passes tsrunc's validation as it is, and tsrunc creates a container from it wherever runc
// does, on a busybox rootfs, with the paths that only existed on the capturing machine replaced.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { parseRuntimeConfig, type Mount, type Spec } from '@tsrunc/spec-schemas';
import { makeBundle, RUNC, runtime, TSRUNC, uniqueId, type Teardown } from '../src/harness.js';
import { removeCgroup } from '../src/cleanup.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/client-configs', import.meta.url));
const fixtures = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();
/** The parent of every cgroup made here, removed at the end. */
const CGROUP_PARENT = `tsrunc-client-configs-${process.pid}`;

/** Bind sources the clients make as files (the rest are directories: volumes, shm, binds of directories). */
const FILE_SOURCES = new Set(['hosts', 'hostname', 'resolv.conf', '.containerenv']);

/**
 * The fixture, runnable here: the rootfs of the bundle, bind sources and namespace paths of the
 * capturing run replaced (by a stand-in file or directory, by a new namespace), a cgroup of
 * no terminal (which would need a console socket, and says nothing of the config).
 */
function runnable(t: Teardown, spec: Spec, standIns: string): Spec {
  const copy = structuredClone(spec);
  copy.root = { ...copy.root!, path: 'rootfs' };
  copy.process!.terminal = false;
  copy.mounts = (copy.mounts ?? []).map((m: Mount, i) => {
    const bind = m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
    if (!bind || m.source === undefined || fs.existsSync(m.source)) return m;
    const source = path.join(standIns, `${i}-${path.basename(m.source)}`);
    if (FILE_SOURCES.has(path.basename(m.source))) fs.writeFileSync(source, '');
    else fs.mkdirSync(source);
    return { ...m, source };
  });
  const linux = copy.linux!;
  linux.namespaces = (linux.namespaces ?? []).map((ns) => (ns.path !== undefined && !fs.existsSync(ns.path) ? { type: ns.type } : ns));
  t.teardown(() => fs.rmSync(standIns, { recursive: true, force: true }));
  return copy;
}

/** The cgroup directories of the container, on every hierarchy that has one. */
function cgroupDirs(cgroupsPath: string): string[] {
  const roots = ['/sys/fs/cgroup', ...fs.readdirSync('/sys/fs/cgroup').map((h) => path.join('/sys/fs/cgroup', h))];
  return roots.map((root) => path.join(root, cgroupsPath)).filter((dir) => fs.existsSync(dir));
}

/**
 * create in a cgroup of its own, then delete --force: the status and stderr of create. tsrunc's
 * delete must leave no cgroup (runc's may, when a killed task is slow to leave it under load;
 * the test's teardown removes those).
 */
function createAndDelete(t: Test, binary: string, spec: Spec): { status: number | null; stderr: string } {
  const cgroupsPath = `/${CGROUP_PARENT}/${uniqueId()}`;
  const bundle = makeBundle(t, { ...spec, linux: { ...spec.linux, cgroupsPath } });
  const rt = runtime(t, binary);
  const id = uniqueId();
  const r = rt.call(['create', '--bundle', bundle.dir, id]);
  const deleted = rt.call(['delete', '--force', id]);
  if (binary === TSRUNC) {
    if (r.status === 0) t.equal(deleted.status, 0, `tsrunc delete --force ${deleted.stderr.trim()}`);
    t.same(cgroupDirs(cgroupsPath), [], 'tsrunc left no cgroup');
  }
  return { status: r.status, stderr: r.stderr.trim() };
}

t.test('the corpus holds each client\'s configs', async (t) => {
  for (const client of ['dockerd-', 'ctr-', 'podman-']) {
    t.ok(fixtures.filter((f) => f.startsWith(client)).length >= 8, `${client}* fixtures`);
  }
});

t.test('every captured config is accepted', async (t) => {
  t.teardown(() => removeCgroup(CGROUP_PARENT));
  for (const fixture of fixtures) {
    t.test(fixture, async (t) => {
      const text = fs.readFileSync(path.join(FIXTURES, fixture), 'utf8');
      const parsed = parseRuntimeConfig(text, fixture);
      t.ok(parsed.ok, `valid as sent: ${parsed.ok ? '' : parsed.error}`);
      if (!parsed.ok) return;
      const standIns = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-conf-stand-ins-'));
      const spec = runnable(t, parsed.value, standIns);
      const runc = createAndDelete(t, RUNC, spec);
      const tsrunc = createAndDelete(t, TSRUNC, spec);
      if (runc.status === 0) {
        t.equal(tsrunc.status, 0, `tsrunc creates it as runc does${tsrunc.stderr ? `: ${tsrunc.stderr}` : ''}`);
      } else {
        // runc refused it on this machine past validation (dockerd-privileged: capabilities this
        // root lacks); tsrunc may refuse it too, but not for its config.
        t.comment(`runc: ${runc.stderr}`);
        t.notMatch(tsrunc.stderr, /config\.json/, `tsrunc does not refuse the config itself: ${tsrunc.stderr}`);
      }
    });
  }
});
