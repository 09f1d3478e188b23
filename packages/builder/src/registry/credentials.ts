// Credentials as docker keeps them: $DOCKER_CONFIG/config.json (else ~/.docker/config.json) with
// `auths` (base64 "user:password", or an identity token), `credHelpers` (a helper per registry)
// and `credsStore` (a helper for all), a helper being a docker-credential-NAME program that
// speaks get/store/erase on its standard streams.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '@tsrunc/runtime/platform';

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth refresh token given instead of a password (docker's "identitytoken"). */
  identityToken?: string;
}

interface AuthEntry {
  auth?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

/** docker.io's credentials live under the name docker has always given its index. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

export function configFile(): string {
  return path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json');
}

function serverKey(domain: string): string {
  return domain === 'docker.io' ? DOCKER_HUB_KEY : domain;
}

/** An auths key as docker accepts it ("https://host:port/v1/", "host:port") to its host part. */
function keyHost(key: string): string {
  const host = key.replace(/^https?:\/\//, '').split('/')[0] ?? '';
  return host === 'index.docker.io' ? 'docker.io' : host;
}

function readDockerConfig(): DockerConfig {
  const file = configFile();
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as DockerConfig;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

function writeDockerConfig(config: DockerConfig): void {
  const file = configFile();
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Only its owner may read it (it holds passwords), and a login once answered survives a crash, as docker's.
  writeFileAtomic(file, JSON.stringify(config, null, '\t') + '\n', { mode: 0o600, durable: true });
}

function helperFor(config: DockerConfig, domain: string): string | undefined {
  return config.credHelpers?.[domain] ?? config.credsStore;
}

/** Runs docker-credential-NAME ACTION with `input` on its stdin; its stdout, or the failure it reports. */
function runHelper(name: string, action: 'get' | 'store' | 'erase', input: string): { ok: boolean; out: string } {
  const program = `docker-credential-${name}`;
  const r = spawnSync(program, [action], { input, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`credential helper ${program}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found in PATH' : r.error.message}`);
  return { ok: r.status === 0, out: r.status === 0 ? r.stdout : (r.stdout || r.stderr).trim() };
}

function decodeAuth(entry: AuthEntry, key: string): Credentials | undefined {
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) throw new Error(`${configFile()}: the auth of ${key} is not base64 of "user:password"`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1), ...(entry.identitytoken ? { identityToken: entry.identitytoken } : {}) };
  }
  return entry.identitytoken ? { username: '<token>', password: '', identityToken: entry.identitytoken } : undefined;
}

/** The credentials docker would use for `domain`, or undefined when it has none. */
export function lookupCredentials(domain: string): Credentials | undefined {
  const config = readDockerConfig();
  const helper = helperFor(config, domain);
  if (helper !== undefined) {
    const { ok, out } = runHelper(helper, 'get', serverKey(domain));
    if (!ok) {
      if (/credentials not found/i.test(out)) return undefined;
      throw new Error(`credential helper docker-credential-${helper} get ${domain}: ${out}`);
    }
    const { Username, Secret } = JSON.parse(out) as { Username?: string; Secret?: string };
    if (typeof Username !== 'string' || typeof Secret !== 'string') throw new Error(`credential helper docker-credential-${helper}: no Username and Secret in its answer`);
    return Username === '<token>' ? { username: Username, password: '', identityToken: Secret } : { username: Username, password: Secret };
  }
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (keyHost(key) === domain) return decodeAuth(entry, key);
  }
  return undefined;
}

/** `tsbuild login`: through the registry's helper if it has one, else base64 in auths. */
export function storeCredentials(domain: string, creds: Credentials): string {
  const config = readDockerConfig();
  const helper = helperFor(config, domain);
  if (helper !== undefined) {
    const { ok, out } = runHelper(helper, 'store', JSON.stringify({ ServerURL: serverKey(domain), Username: creds.username, Secret: creds.password }));
    if (!ok) throw new Error(`credential helper docker-credential-${helper} store ${domain}: ${out}`);
    return `docker-credential-${helper}`;
  }
  const auths = Object.fromEntries(Object.entries(config.auths ?? {}).filter(([key]) => keyHost(key) !== domain));
  auths[serverKey(domain)] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  writeDockerConfig({ ...config, auths });
  return configFile();
}

/** `tsbuild logout`: false when there was nothing to remove. */
export function eraseCredentials(domain: string): boolean {
  const config = readDockerConfig();
  const helper = helperFor(config, domain);
  if (helper !== undefined) {
    const { ok, out } = runHelper(helper, 'erase', serverKey(domain));
    if (!ok && !/credentials not found/i.test(out)) throw new Error(`credential helper docker-credential-${helper} erase ${domain}: ${out}`);
    return ok;
  }
  const auths = config.auths ?? {};
  const kept = Object.fromEntries(Object.entries(auths).filter(([key]) => keyHost(key) !== domain));
  if (Object.keys(kept).length === Object.keys(auths).length) return false;
  writeDockerConfig({ ...config, auths: kept });
  return true;
}
