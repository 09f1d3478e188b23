// The bearer token flow, as Docker Hub and most registries use it: the registry (docker-registry
// with `auth: token`) answers 401 with a Bearer challenge naming a realm, a service and a scope;
// the token server here (a child process on 127.0.0.1) issues ES256 tokens the registry verifies
// against its certificate, granting what was asked only to the right user and password. It logs
// every token request, so the test sees the scopes tsbuild asked for.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { project } from './project.js';
import { clientEnv, PASSWORD, startRegistry, tsbuild, twoPlatformLayout, USER } from './registry-server.js';

const SERVICE = 'tsbuild-token-test';
const ISSUER = 'tsbuild-token-issuer';

/** Grants the scopes asked for (each a scope parameter) to USER:PASSWORD, nothing to anyone else; logs "user scopes" lines. */
const TOKEN_SERVER = `
const http = require('node:http'), crypto = require('node:crypto'), fs = require('node:fs');
const [keyFile, certFile, logFile, user, password, issuer] = process.argv.slice(1);
const key = crypto.createPrivateKey(fs.readFileSync(keyFile));
const der = new crypto.X509Certificate(fs.readFileSync(certFile)).raw.toString('base64');
const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const basic = (req.headers.authorization || '').replace(/^Basic /, '');
  const who = Buffer.from(basic, 'base64').toString() === user + ':' + password ? user : 'anonymous';
  const scope = url.searchParams.getAll('scope').join(' ');
  fs.appendFileSync(logFile, who + ' ' + scope + '\\n');
  const access = who === user && scope ? scope.split(' ').map((s) => { const [type, name, actions] = s.split(':'); return { type, name, actions: actions.split(',') }; }) : [];
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: issuer, sub: who, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: crypto.randomUUID(), access };
  const signing = b64({ alg: 'ES256', typ: 'JWT', x5c: [der] }) + '.' + b64(claims);
  const signature = crypto.sign('sha256', Buffer.from(signing), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ token: signing + '.' + signature, expires_in: 300 }));
}).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;

t.test('bearer tokens: login, FROM, --push, each with the scope it needs; anonymous is refused', async (t) => {
  const dir = fs.mkdtempSync('/tmp/tsbuild-token-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const made = spawnSync('openssl', ['req', '-x509', ...ec, '-keyout', 'token.key', '-out', 'token.crt', '-days', '2', '-subj', '/CN=token signer'], { cwd: dir, encoding: 'utf8' });
  t.equal(made.status, 0, made.stderr);
  const log = path.join(dir, 'token.log');
  const server = spawn(process.execPath, ['-e', TOKEN_SERVER, path.join(dir, 'token.key'), path.join(dir, 'token.crt'), log, USER, PASSWORD, ISSUER], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(async () => {
    server.kill();
    if (server.exitCode === null && server.signalCode === null) await once(server, 'exit');
  });
  const [line] = (await once(server.stdout!, 'data')) as [Buffer];
  const realm = `http://127.0.0.1:${line.toString().trim()}/token`;
  const registry = await startRegistry(t, { auth: { realm, service: SERVICE, issuer: ISSUER, rootcertbundle: path.join(dir, 'token.crt') } });
  // skopeo answers the same challenges with the same credentials.
  const copied = spawnSync('skopeo', ['copy', '--quiet', '--all', '--dest-cert-dir', `/etc/docker/certs.d/${registry.host}`, '--dest-creds', `${USER}:${PASSWORD}`,
    `oci:${twoPlatformLayout(t)}:multi`, `docker://${registry.host}/team/base:1`], { encoding: 'utf8' });
  t.equal(copied.status, 0, copied.stderr);
  const asked = () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);

  const env = clientEnv(path.join(dir, 'client'));
  fs.writeFileSync(log, '');
  const login = tsbuild(['login', '-u', USER, '-p', PASSWORD, registry.host], env);
  t.equal(login.status, 0, login.stderr);
  t.same(asked(), [`${USER} `], 'login asks for a token without a scope, with the credentials');

  fs.writeFileSync(log, '');
  const p = project(t, { Dockerfile: `FROM ${registry.host}/team/base:1\nLABEL via=bearer\n` });
  const name = `${registry.host}/team/app:1`;
  const r = p.build(['-t', name, '--push'], env);
  t.equal(r.status, 0, r.stderr);
  t.same([...new Set(asked())].sort(), [`${USER} repository:team/app:pull,push`, `${USER} repository:team/app:pull,push repository:team/base:pull`, `${USER} repository:team/base:pull`],
    'a pull scope for the base, pull and push for the pushed repository, and both to mount the base\'s layers from team/base');
  t.ok(registry.requests(/^POST \/v2\/team\/app\/blobs\/uploads\/\?mount=sha256%3A[0-9a-f]{64}&from=team%2Fbase$/) > 0, 'the base\'s layers were mounted');
  t.equal(registry.requests(/^(PUT|PATCH) \/v2\/team\/app\/blobs\/uploads\/.*/), 1, 'only the config was uploaded (one PUT)');
  const digest = /pushed \S+@(sha256:[0-9a-f]{64})/.exec(r.stderr)?.[1];
  t.ok(digest);
  const inspected = JSON.parse(spawnSync('skopeo', ['inspect', '--cert-dir', `/etc/docker/certs.d/${registry.host}`, '--creds', `${USER}:${PASSWORD}`, `docker://${name}`], { encoding: 'utf8' }).stdout);
  t.equal(inspected.Digest, digest, 'skopeo finds the pushed image');
  t.equal(inspected.Labels.via, 'bearer');

  const anonymous = project(t, { Dockerfile: `FROM ${registry.host}/team/base:1\n` });
  const refused = anonymous.build(['-t', 'x:1'], clientEnv(path.join(dir, 'nobody')));
  t.equal(refused.status, 1);
  t.match(refused.stderr.trim().split('\n').pop(), `tsbuild: error: Dockerfile:1: ${registry.host}/team/base:1: ${registry.host}: authentication required (no credentials for ${registry.host}`);
});
