// Pulling from a real registry (registry-server.ts), beyond the main path of registry-build: the
// platform of an OCI index chosen by --platform, a digest pin, zstd layers, a blob the registry
// serves corrupted, docker's credential helpers, trust from tsbuild.toml, and the errors of an
// unknown tag, a missing platform, a refused password and an untrusted certificate.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { project, type Project } from './project.js';
import {
  clientEnv, PASSWORD, sha256, skopeoCopy, skopeoInspect, startRegistry, tsbuild, twoPlatformLayout, USER, type Registry,
} from './registry-server.js';

type Teardown = { teardown(fn: () => void | Promise<void>): void };

const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';

function markProject(t: Teardown, from: string): Project {
  return project(t, { Dockerfile: [`FROM ${from}`, 'RUN echo "$MARK" > /mark', ''].join('\n') });
}

/** The store's blob names and its temp dir's entries: what a failed pull must not have added to. */
function storeFiles(root: string): string[] {
  const list = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);
  return [...list(path.join(root, 'layout', 'blobs', 'sha256')), ...list(path.join(root, 'layout', 'tmp'))];
}

/** An OCI layout of a FROM scratch image holding `files` (under the tag "latest"), with `-o` options. */
function scratchLayout(t: Teardown, files: Record<string, string>, options = ''): string {
  const p = project(t, { Dockerfile: 'FROM scratch\nCOPY . /\nCMD ["none"]\n', ...files });
  const layout = path.join(p.dir, 'layout');
  const r = p.build(['-o', `type=oci,dest=${layout}${options}`]);
  if (r.status !== 0) throw new Error(r.stderr);
  return layout;
}

let registry: Registry;
let env: Record<string, string>;

t.before(async () => {
  registry = await startRegistry(t);
  skopeoCopy(registry, `oci:${twoPlatformLayout(t)}:multi`, 'team/base:oci', ['--all']);
  env = clientEnv(path.join(registry.dir, 'client'));
  const login = tsbuild(['login', '-u', USER, '-p', PASSWORD, registry.host], env);
  if (login.status !== 0) throw new Error(login.stderr);
});

t.test('--platform chooses the entry of an OCI index; a platform it lacks is an error naming those it has', async (t) => {
  const p = markProject(t, `${registry.host}/team/base:oci`);
  const arm = p.build(['--platform', 'linux/arm64', '-t', 'arm:1'], env);
  t.equal(arm.status, 0, arm.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('arm:1'), 'mark'), 'utf8'), 'arm64\n', 'the linux/arm64 entry was taken');
  const amd = p.build(['-t', 'amd:1'], env);
  t.equal(amd.status, 0, amd.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('amd:1'), 'mark'), 'utf8'), 'amd64\n', 'without --platform, the build\'s own');

  const missing = markProject(t, `${registry.host}/team/base:oci`);
  const r = missing.build(['--platform', 'linux/s390x', '-t', 'none:1'], env);
  t.equal(r.status, 1);
  t.equal(lastLine(r.stderr), `tsbuild: error: Dockerfile:1: ${registry.host}/team/base:oci: no image for linux/s390x in the manifest list (it has linux/amd64, linux/arm64/v8)`);
  t.same(storeFiles(missing.root).filter((f) => !fs.readFileSync(path.join(missing.root, 'layout', 'blobs', 'sha256', f), 'utf8').includes('manifests')), [], 'only the index itself was stored');
  const bad = missing.build(['--platform', 'linux', '-t', 'none:1'], env);
  t.equal(lastLine(bad.stderr), 'tsbuild: error: --platform linux: expected os/arch[/variant], for example linux/amd64 or linux/arm/v7');
});

t.test('a digest pin is pulled as it is, and kept in the name', async (t) => {
  const index = sha256(Buffer.from(skopeoInspect(registry, 'team/base:oci', ['--raw'])));
  const p = markProject(t, `${registry.host}/team/base@${index}`);
  const r = p.build(['-t', 'pinned:1'], env);
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('pinned:1'), 'mark'), 'utf8'), 'amd64\n');
  const wrong = markProject(t, `${registry.host}/team/base@sha256:${'0'.repeat(64)}`);
  const refused = wrong.build(['-t', 'pinned:2'], env);
  t.equal(refused.status, 1);
  t.match(lastLine(refused.stderr), `tsbuild: error: Dockerfile:1: ${registry.host}/team/base@sha256:${'0'.repeat(64)}: ${registry.host}: manifest team/base:sha256:${'0'.repeat(64)}: not found (MANIFEST_UNKNOWN`);
});

t.test('zstd layers, pushed in OCI form by skopeo, are pulled and applied', async (t) => {
  const layout = scratchLayout(t, { 'hello.txt': 'zstd inside\n' }, ',compression=zstd');
  skopeoCopy(registry, `oci:${layout}:latest`, 'team/zstd:1');
  const manifest = JSON.parse(skopeoInspect(registry, 'team/zstd:1', ['--raw']));
  t.equal(manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd', 'the registry holds a zstd layer');
  const p = project(t, { Dockerfile: `FROM ${registry.host}/team/zstd:1\n` });
  const r = p.build(['-t', 'zstd:1'], env);
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(p.unpack('zstd:1'), 'hello.txt'), 'utf8'), 'zstd inside\n');
});

t.test('a blob the registry serves with other bytes is refused, and nothing of it is stored', async (t) => {
  const layout = scratchLayout(t, { 'victim.txt': 'the real content\n' });
  skopeoCopy(registry, `oci:${layout}:latest`, 'team/corrupt:1', ['--format', 'v2s2']);
  const layer = JSON.parse(skopeoInspect(registry, 'team/corrupt:1', ['--raw'])).layers[0].digest as string;
  const data = path.join(registry.storage, 'docker/registry/v2/blobs/sha256', layer.slice(7, 9), layer.slice(7), 'data');
  const bytes = fs.readFileSync(data);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1); // the same size, other bytes
  fs.writeFileSync(data, bytes);
  const p = project(t, { Dockerfile: `FROM ${registry.host}/team/corrupt:1\n` });
  const r = p.build(['-t', 'corrupt:1'], env);
  t.equal(r.status, 1);
  t.match(lastLine(r.stderr), new RegExp(`^tsbuild: error: Dockerfile:1: ${registry.host}/team/corrupt:1: ${registry.host}: blob ${layer} of team/corrupt: the content is sha256:[0-9a-f]{64} \\(${bytes.length} bytes\\), not what its descriptor says`));
  t.notOk(storeFiles(p.root).includes(layer.slice(7)), 'no blob under the layer\'s digest');
  t.same(fs.readdirSync(path.join(p.root, 'layout', 'tmp')), [], 'no partial download left');
  t.notOk(fs.existsSync(path.join(p.root, 'registry', 'tags.json')), 'the tag is not recorded');
});

t.test('an unknown tag and a refused password are one-line errors naming the registry and the reference', async (t) => {
  const p = markProject(t, `${registry.host}/team/base:nope`);
  const r = p.build(['-t', 'nope:1'], env);
  t.equal(r.status, 1);
  t.equal(lastLine(r.stderr), `tsbuild: error: Dockerfile:1: ${registry.host}/team/base:nope: ${registry.host}: manifest team/base:nope: not found (MANIFEST_UNKNOWN: manifest unknown)`);

  const other = clientEnv(path.join(registry.dir, 'client-wrong'));
  const login = tsbuild(['login', '-u', USER, '-p', 'not-the-password', registry.host], other);
  t.equal(login.status, 1);
  t.equal(login.stderr, `tsbuild: error: ${registry.host}: the credentials for ${registry.host} were refused (unauthorized)\n`);
  t.notOk(fs.existsSync(path.join(other.DOCKER_CONFIG!, 'config.json')), 'refused credentials are not stored');
});

t.test('credentials from a credsStore helper, run as docker runs it', async (t) => {
  const dir = path.join(registry.dir, 'helper');
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  // A helper that logs what it is asked and answers `get` for our registry only.
  fs.writeFileSync(path.join(dir, 'bin', 'docker-credential-tsbtest'), [
    '#!/bin/sh',
    'read -r server',
    `echo "$1 $server" >> ${dir}/asked`,
    `if [ "$1" = get ] && [ "$server" = "${registry.host}" ]; then echo '{"ServerURL":"${registry.host}","Username":"${USER}","Secret":"${PASSWORD}"}'; exit 0; fi`,
    'echo "credentials not found in native keychain"; exit 1',
    '',
  ].join('\n'), { mode: 0o755 });
  const helperEnv = clientEnv(path.join(dir, 'client'));
  fs.writeFileSync(path.join(helperEnv.DOCKER_CONFIG!, 'config.json'), JSON.stringify({ credsStore: 'tsbtest' }));
  const p = markProject(t, `${registry.host}/team/base:oci`);
  const r = p.build(['-t', 'helper:1'], { ...helperEnv, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` });
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(dir, 'asked'), 'utf8'), `get ${registry.host}\n`, 'the helper was asked once, for the registry');
});

t.test('a certificate nobody trusts is refused naming the problem; tsbuild.toml can trust its CA or skip the check', async (t) => {
  const untrusted = await startRegistry(t, { auth: false, trusted: false });
  skopeoCopy(untrusted, `oci:${scratchLayout(t, { 'a.txt': 'a\n' })}:latest`, 'lone/image:1', []);
  const clientDir = path.join(untrusted.dir, 'client');
  const own = clientEnv(clientDir);
  const p = project(t, { Dockerfile: `FROM ${untrusted.host}/lone/image:1\n` });
  const r = p.build(['-t', 'tls:1'], own);
  t.equal(r.status, 1);
  t.match(lastLine(r.stderr), new RegExp(`^tsbuild: error: Dockerfile:1: ${untrusted.host}/lone/image:1: ${untrusted.host}: unable to verify the first certificate \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\); trust its CA in /etc/docker/certs.d/${untrusted.host}/ca.crt`));
  t.same(storeFiles(p.root), [], 'nothing stored');

  fs.writeFileSync(own.TSBUILD_CONFIG!, `[registry."${untrusted.host}"]\nca = ["${untrusted.caFile}"]\n`);
  const trusted = p.build(['-t', 'tls:1'], own);
  t.equal(trusted.status, 0, trusted.stderr);

  const q = project(t, { Dockerfile: `FROM ${untrusted.host}/lone/image:1\n` });
  fs.writeFileSync(own.TSBUILD_CONFIG!, `[registry."${untrusted.host}"]\ninsecure = true\n`);
  const insecure = q.build(['-t', 'tls:2'], own);
  t.equal(insecure.status, 0, insecure.stderr);

  fs.writeFileSync(own.TSBUILD_CONFIG!, `[registry."${untrusted.host}"]\nhttp = "yes"\n`);
  const typo = q.build(['-t', 'tls:3', '--pull'], own);
  t.equal(lastLine(typo.stderr), `tsbuild: error: Dockerfile:1: ${untrusted.host}/lone/image:1: [registry."${untrusted.host}"] in the configuration file: http must be true or false`);
});

t.test('-o type=registry pushes, -o type=image,push=false only tags', async (t) => {
  const p = project(t, { Dockerfile: `FROM ${registry.host}/team/base:oci\nLABEL pushed=yes\n` });
  const name = `${registry.host}/team/out:2`;
  const r = p.build(['-o', `type=registry,name=${name}`, '-o', 'type=image,name=local-only:1,push=false'], env);
  t.equal(r.status, 0, r.stderr);
  const digest = /built (sha256:[0-9a-f]{64})/.exec(r.stderr)?.[1];
  t.match(r.stderr, `pushed ${name}@${digest}`);
  t.equal(sha256(Buffer.from(skopeoInspect(registry, 'team/out:2', ['--raw']))), digest, 'the registry has it');
  t.notMatch(r.stderr, 'pushed local-only');
  t.match(tsbuild(['images', '--root', p.root], env).stdout, 'local-only:1', 'tagged in the store');
  const unknown = p.build(['-o', `type=registry,name=${name},compression=zstd`], env);
  t.equal(lastLine(unknown.stderr), `tsbuild: error: -o type=registry,name=${name},compression=zstd: unknown option "compression" (type, name, push)`);
});
