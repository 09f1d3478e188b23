// Documents about the runtime and its containers, checked against the runtime-spec schemas:
// `features`, `state`, and `spec` (whose output tsrunc itself must accept).
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { checkDocument, parseRuntimeConfig } from '@tsrunc/spec-schemas';
import { baseSpec, makeBundle, RUNC, runtime, uniqueId } from '../src/harness.js';

t.test('features is a valid features document', async (t) => {
  const r = runtime(t).call(['features']);
  t.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { linux: { namespaces: string[]; seccomp: { enabled: boolean } } };
  t.equal(checkDocument('features', doc), undefined);
  t.same([...doc.linux.namespaces].sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
  t.equal(doc.linux.seccomp.enabled, true);
});

t.test('state is a valid state document with the fields runc prints', async (t) => {
  const bundle = makeBundle(t, baseSpec(['sleep', '100']));
  const docs: Record<string, Record<string, unknown>> = {};
  for (const [name, binary] of [['tsrunc', undefined], ['runc', RUNC]] as const) {
    const rt = binary ? runtime(t, binary) : runtime(t);
    const id = uniqueId();
    t.equal(rt.call(['create', '--bundle', bundle.dir, id]).status, 0, `${name} create`);
    const r = rt.call(['state', id]);
    docs[name] = JSON.parse(r.stdout) as Record<string, unknown>;
    t.equal(checkDocument('state', docs[name]), undefined, `${name}'s state document is valid`);
    rt.call(['delete', '--force', id]);
  }
  t.same(Object.keys(docs.tsrunc!).sort(), Object.keys(docs.runc!).sort(), 'the same fields as runc');
  t.equal(docs.tsrunc!.status, docs.runc!.status);
});

t.test('spec writes a config that validates, and refuses to overwrite one', async (t) => {
  const bundle = makeBundle(t, baseSpec(['true']));
  fs.rmSync(path.join(bundle.dir, 'config.json'));
  const rt = runtime(t);
  for (const flags of [[], ['--rootless']]) {
    t.equal(rt.call(['spec', '--bundle', bundle.dir, ...flags]).status, 0, `spec ${flags.join(' ')}`);
    const parsed = parseRuntimeConfig(fs.readFileSync(path.join(bundle.dir, 'config.json'), 'utf8'), 'config.json');
    t.ok(parsed.ok, parsed.ok ? 'valid' : parsed.error);
    const again = rt.call(['spec', '--bundle', bundle.dir]);
    t.equal(again.status, 1);
    t.match(again.stderr, /File config.json exists/);
    fs.rmSync(path.join(bundle.dir, 'config.json'));
  }
});
