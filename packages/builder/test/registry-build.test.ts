// tsbuild against a real registry (Debian's docker-registry behind TLS and htpasswd, see
// registry-server.ts): FROM a two-platform manifest list / OCI index put there by skopeo, a RUN
// step, --push to the same registry read back by skopeo; login/logout through docker's config
// file; a second build that asks the registry nothing; and the errors of a missing login.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { project, type Project } from './project.js';
import {
  clientEnv, PASSWORD, sha256, skopeoCopy, skopeoInspect, startRegistry, tsbuild, twoPlatformLayout, USER, type Registry,
} from './registry-server.js';

type Teardown = { teardown(fn: () => void | Promise<void>): void };

const lastLine = (text: string) => text.trim().split('\n').pop() ?? '';

function runProject(t: Teardown, from: string): Project {
  return project(t, { Dockerfile: [`FROM ${from}`, 'RUN echo "$MARK on $(uname -m)" > /mark', ''].join('\n') });
}

let registry: Registry;
let layout: string;

t.before(async () => {
  registry = await startRegistry(t);
  layout = twoPlatformLayout(t);
  skopeoCopy(registry, `oci:${layout}:multi`, 'team/base:v2s2', ['--all', '--format', 'v2s2']);
  skopeoCopy(registry, `oci:${layout}:multi`, 'team/base:oci', ['--all']);
});

t.test('the two families of manifest lists are in the registry', async (t) => {
  t.match(JSON.parse(skopeoInspect(registry, 'team/base:v2s2', ['--raw'])).mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
  t.match(JSON.parse(skopeoInspect(registry, 'team/base:oci', ['--raw'])).mediaType, 'application/vnd.oci.image.index.v1+json');
});

t.test('FROM a manifest list behind TLS and basic auth, RUN, --push; a second build pulls nothing; no login, no build', async (t) => {
  const env = clientEnv(path.join(registry.dir, 'client-1'));
  const login = tsbuild(['login', '-u', USER, '--password-stdin', registry.host], env, `${PASSWORD}\n`);
  t.equal(login.status, 0, login.stderr);
  const auths = JSON.parse(fs.readFileSync(path.join(env.DOCKER_CONFIG!, 'config.json'), 'utf8')).auths;
  t.equal(Buffer.from(auths[registry.host].auth, 'base64').toString(), `${USER}:${PASSWORD}`, 'login stores base64 user:password under the host in auths');

  const p = runProject(t, `${registry.host}/team/base:v2s2`);
  const app = `${registry.host}/team/app:1`;
  // A fixed creation date, so that building it again gives the same image, to push again.
  const first = p.build(['--progress', 'plain', '-t', app, '--push'], { ...env, SOURCE_DATE_EPOCH: '1700000000' });
  t.equal(first.status, 0, first.stderr);
  // The download shows in the progress, a line per blob as BuildKit prints them.
  t.match(first.stderr, new RegExp(`pulling ${registry.host.replace(/[.]/g, '\\.')}/team/base@sha256:[0-9a-f]{64}`), 'a vertex for the pull');
  t.match(first.stderr, /sha256:[0-9a-f]{12} [\d.]+[kM]?B \/ [\d.]+[kM]?B done/, 'a line for each blob received');
  const built = /built (sha256:[0-9a-f]{64})/.exec(first.stderr)?.[1];
  const pushed = new RegExp(`pushed ${app.replace(/[.]/g, '\\.')}@(sha256:[0-9a-f]{64})`).exec(first.stderr)?.[1];
  t.ok(built, 'the build names its manifest digest');
  t.ok(pushed, 'the pushed digest is printed');
  // The store keeps the RUN layer uncompressed; the push carries it gzipped, the config the same.
  const storeConfig = JSON.parse(fs.readFileSync(path.join(p.root, 'layout', 'blobs', 'sha256', built!.slice(7)), 'utf8')).config.digest;
  t.equal(fs.readFileSync(path.join(p.unpack(app), 'mark'), 'utf8'), 'amd64 on x86_64\n', 'the linux/amd64 entry of the list was the base, and RUN ran on it');

  const raw = skopeoInspect(registry, 'team/app:1', ['--raw']);
  t.equal(sha256(Buffer.from(raw)), pushed, 'skopeo reads back the very manifest that was pushed');
  t.equal(JSON.parse(raw).config.digest, storeConfig, 'the built image\'s config');
  t.ok(JSON.parse(raw).layers.every((l: { mediaType: string }) => l.mediaType.endsWith('gzip')), 'every layer gzipped');
  const inspected = JSON.parse(skopeoInspect(registry, 'team/app:1'));
  t.equal(inspected.Architecture, 'amd64');
  t.ok(inspected.Env.includes('MARK=amd64'), 'the base config came along');
  const baseLayers = JSON.parse(skopeoInspect(registry, 'team/base:v2s2', ['--override-arch', 'amd64'])).Layers;
  t.same(inspected.Layers.slice(0, baseLayers.length), baseLayers, 'the base layers, then the RUN layer');
  t.equal(inspected.Layers.length, baseLayers.length + 1);

  // A second push of the same image sends no blob again: HEAD finds them all.
  const puts = () => registry.requests(/^PUT \/v2\/team\/app\/blobs\/uploads\//);
  const uploaded = puts();
  t.ok(uploaded >= 1, 'the first push uploaded blobs');
  const again = p.build(['--progress', 'plain', '-t', app, '--push'], { ...env, SOURCE_DATE_EPOCH: '1700000000' });
  t.equal(again.status, 0, again.stderr);
  t.match(again.stderr, `pushed ${app}@${pushed}`, 'the same image');
  t.equal(puts(), uploaded, 'no blob the registry has is uploaded again');

  // The same build again, its RUN not cached: the base comes from the store, the registry is not asked.
  const baseRequests = () => registry.requests(/ \/v2\/team\/base\//);
  const blobGets = () => registry.requests(/^GET \/v2\/team\/base\/blobs\//);
  const before = baseRequests();
  t.ok(blobGets() > 0, 'the first build fetched the base blobs');
  const second = p.build(['--progress', 'plain', '--no-cache', '-t', 'again:1'], env);
  t.equal(second.status, 0, second.stderr);
  t.equal(baseRequests(), before, 'the second build sent no request for the base at all');
  const gets = blobGets();
  const refreshed = p.build(['--progress', 'plain', '--pull', '-t', 'again:2'], env);
  t.equal(refreshed.status, 0, refreshed.stderr);
  t.equal(blobGets(), gets, '--pull re-checks the tag but fetches no blob it has');
  t.equal(registry.requests(/^HEAD \/v2\/team\/base\/manifests\/v2s2$/) > 0, true, '--pull asked the registry about the tag');

  const logout = tsbuild(['logout', registry.host], env);
  t.equal(logout.status, 0, logout.stderr);
  t.notOk(JSON.parse(fs.readFileSync(path.join(env.DOCKER_CONFIG!, 'config.json'), 'utf8')).auths[registry.host], 'logout removes the host from auths');

  const anonymous = runProject(t, `${registry.host}/team/base:v2s2`);
  const refused = anonymous.build(['--progress', 'plain', '-t', 'refused:1'], env);
  t.equal(refused.status, 1);
  const error = lastLine(refused.stderr);
  t.match(error, new RegExp(`^tsbuild: error: Dockerfile:1: ${registry.host}/team/base:v2s2: ${registry.host}: authentication required \\(no credentials for ${registry.host} in .*; run tsbuild login ${registry.host}\\)$`));
  t.equal(refused.stderr.split('\n').filter((l) => l.startsWith('tsbuild: error')).length, 1, 'one line');
  const blobs = path.join(anonymous.root, 'layout', 'blobs', 'sha256');
  t.same(fs.existsSync(blobs) ? fs.readdirSync(blobs) : [], [], 'nothing entered the store');
  t.notOk(tsbuild(['images', '--root', anonymous.root], env).stdout.includes('refused'), 'nothing tagged');
});
