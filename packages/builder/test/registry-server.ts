// A real registry for a test: Debian's docker-registry (distribution 2.8) on 127.0.0.1 at a free
// port, behind TLS (a CA and a server certificate made here with openssl) and, unless asked
// otherwise, htpasswd basic auth; its access log kept to count requests. The CA is trusted the
// docker way, through /etc/docker/certs.d/127.0.0.1:PORT/ca.crt. Everything is removed when the
// test ends: the registry stopped, its storage, certificates and certs.d entry deleted. Also: the
// images the tests put there, and the client side (docker's config dir, tsbuild.toml, the CLI).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { busyboxProject, freePort, TSBUILD } from './project.js';

export const USER = 'builder';
export const PASSWORD = 'sekr3t-pass';

export interface Registry {
  /** 127.0.0.1:PORT */
  host: string;
  dir: string;
  /** The CA certificate the server's certificate is signed by. */
  caFile: string;
  /** The registry's filesystem storage (docker/registry/v2/...). */
  storage: string;
  /** The access log so far. */
  log(): string;
  /** Requests in the access log whose request line matches `pattern` (e.g. GET of a blob). */
  requests(pattern: RegExp): number;
}

type Teardown = { teardown(fn: () => void | Promise<void>): void };

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

function makeCertificates(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=tsbuild test CA'], { cwd: dir });
  run('openssl', ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], { cwd: dir });
  fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext'], { cwd: dir });
}

async function listening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log()}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not listen on ${port}: ${log()}`);
}

/** The registry's `auth: token:` section: bearer tokens from `realm`, signed by the key of `rootcertbundle`. */
export interface TokenAuth {
  realm: string;
  service: string;
  issuer: string;
  rootcertbundle: string;
}

/** `auth`: htpasswd (true, the default), none (false), or bearer tokens. */
export async function startRegistry(t: Teardown, opts: { auth?: boolean | TokenAuth; trusted?: boolean } = {}): Promise<Registry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbuild-registry-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  makeCertificates(dir);
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const storage = path.join(dir, 'storage');
  const auth = opts.auth !== false;
  const token = typeof opts.auth === 'object' ? opts.auth : undefined;
  if (auth && !token) fs.writeFileSync(path.join(dir, 'htpasswd'), run('htpasswd', ['-Bbn', USER, PASSWORD]));
  fs.writeFileSync(path.join(dir, 'config.yml'), [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: false',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    'http:',
    `  addr: ${host}`,
    '  tls:',
    `    certificate: ${path.join(dir, 'server.crt')}`,
    `    key: ${path.join(dir, 'server.key')}`,
    ...(token ? ['auth:', '  token:', ...Object.entries(token).map(([k, v]) => `    ${k}: ${v}`)]
      : auth ? ['auth:', '  htpasswd:', '    realm: tsbuild-test', `    path: ${path.join(dir, 'htpasswd')}`] : []),
    '',
  ].join('\n'));
  const logFile = path.join(dir, 'registry.log');
  const out = fs.openSync(logFile, 'w');
  const child = spawn('/usr/bin/docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
  const log = () => fs.readFileSync(logFile, 'utf8');
  await listening(port, child, log);
  if (opts.trusted !== false) {
    const certsD = path.join('/etc/docker/certs.d', host);
    fs.mkdirSync(certsD, { recursive: true });
    t.teardown(() => fs.rmSync(certsD, { recursive: true, force: true }));
    fs.copyFileSync(path.join(dir, 'ca.crt'), path.join(certsD, 'ca.crt'));
  }
  return {
    host, dir, caFile: path.join(dir, 'ca.crt'), storage, log,
    requests: (pattern) => log().split('\n').filter((line) => pattern.test(/"([A-Z]+ [^ "]+)/.exec(line)?.[1] ?? '')).length,
  };
}

/** `skopeo copy` from an OCI layout into the registry, trusting its CA, with its credentials. */
export function skopeoCopy(registry: Registry, source: string, dest: string, extra: string[] = []): void {
  run('skopeo', ['copy', '--quiet', '--dest-cert-dir', certDir(registry), '--dest-creds', `${USER}:${PASSWORD}`, ...extra, source, `docker://${registry.host}/${dest}`]);
}

/** `skopeo inspect` of an image of the registry (--raw for the manifest itself). */
export function skopeoInspect(registry: Registry, ref: string, extra: string[] = []): string {
  return run('skopeo', ['inspect', '--cert-dir', certDir(registry), '--creds', `${USER}:${PASSWORD}`, ...extra, `docker://${registry.host}/${ref}`]);
}

/** A directory holding only the CA, as skopeo's --cert-dir takes it. */
function certDir(registry: Registry): string {
  const dir = path.join(registry.dir, 'skopeo-certs');
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir);
    fs.copyFileSync(registry.caFile, path.join(dir, 'ca.crt'));
  }
  return dir;
}

interface Json { [key: string]: any }

export const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Writes a JSON document into an OCI layout's blobs; its descriptor. */
function putBlob(layout: string, doc: unknown, mediaType: string): Json {
  const bytes = Buffer.from(JSON.stringify(doc));
  const digest = sha256(bytes);
  fs.writeFileSync(path.join(layout, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { mediaType, digest, size: bytes.length };
}

const readBlob = (layout: string, digest: string): Json => JSON.parse(fs.readFileSync(path.join(layout, 'blobs', 'sha256', digest.slice(7)), 'utf8'));

/**
 * An OCI layout whose tag "multi" is an index of two images: busybox with MARK=amd64 for
 * linux/amd64, and the same layers with MARK=arm64 as linux/arm64 (the binary stays the host's,
 * which lets a RUN step show which of the two a build took).
 */
export function twoPlatformLayout(t: Teardown): string {
  const base = busyboxProject(t, ['FROM base', 'ENV MARK=amd64']);
  const layout = path.join(base.dir, 'layout');
  const r = base.build(['-o', `type=oci,dest=${layout}`]);
  if (r.status !== 0) throw new Error(r.stderr);
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as Json;
  const amd64 = index.manifests[0];
  const manifest = readBlob(layout, amd64.digest);
  const config = readBlob(layout, manifest.config.digest);
  const armConfig = { ...config, architecture: 'arm64', variant: 'v8', config: { ...config.config, Env: config.config.Env.map((e: string) => e.replace('MARK=amd64', 'MARK=arm64')) } };
  const arm64 = putBlob(layout, { ...manifest, config: putBlob(layout, armConfig, manifest.config.mediaType) }, amd64.mediaType);
  const list = putBlob(layout, {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...amd64, platform: { architecture: 'amd64', os: 'linux' }, annotations: undefined }, { ...arm64, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } }],
  }, 'application/vnd.oci.image.index.v1+json');
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...list, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }));
  return layout;
}

/** The environment of a tsbuild that keeps docker's config in `dir` and reads no host configuration. */
export function clientEnv(dir: string): Record<string, string> {
  fs.mkdirSync(path.join(dir, 'docker'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'tsbuild.toml'), '');
  return { DOCKER_CONFIG: path.join(dir, 'docker'), TSBUILD_CONFIG: path.join(dir, 'tsbuild.toml') };
}

export function tsbuild(args: string[], env: Record<string, string>, input?: string) {
  return spawnSync(TSBUILD, args, { encoding: 'utf8', env: { ...process.env, ...env }, ...(input !== undefined ? { input } : {}) });
}
