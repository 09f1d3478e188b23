// How each registry host is reached: TLS trusting the system's CAs plus the host's directory in
// /etc/docker/certs.d (HOST:PORT/*.crt are CAs, *.cert with its *.key a client certificate, as
// docker reads it), and, only for hosts listed in tsbuild.toml as BuildKit's buildkitd.toml lists
// them, plain http (`http = true`), no certificate check (`insecure = true`) or more CAs (`ca = [...]`).
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { readConfig } from '../config/config-file.js';

const CERTS_D = '/etc/docker/certs.d';
/** Debian's system store (update-ca-certificates), which docker trusts too; Node's own bundle elsewhere. */
const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface HostSettings {
  host: string;
  plainHttp: boolean;
  insecure: boolean;
  /** The system's CAs and the host's own. */
  ca: string[];
  clientCert?: { cert: Buffer; key: Buffer };
}

interface RegistryEntry {
  http?: boolean;
  insecure?: boolean;
  ca?: string[];
}

const KEYS = new Set(['http', 'insecure', 'ca']);

function configEntry(host: string): RegistryEntry {
  const table = readConfig().registry ?? {};
  const entry = table[host];
  if (entry === undefined) return {};
  const where = `[registry."${host}"] in the configuration file`;
  if (typeof entry !== 'object' || entry === null) throw new Error(`${where}: not a table`);
  for (const [key, value] of Object.entries(entry)) {
    if (!KEYS.has(key)) throw new Error(`${where}: unknown key "${key}" (${[...KEYS].join(', ')})`);
    const ok = key === 'ca' ? Array.isArray(value) && value.every((v) => typeof v === 'string') : typeof value === 'boolean';
    if (!ok) throw new Error(`${where}: ${key} must be ${key === 'ca' ? 'a list of file names' : 'true or false'}`);
  }
  return entry as RegistryEntry;
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The host's certs.d directory: CAs, and a client certificate whose key sits beside it. */
function certsD(host: string): { ca: string[]; clientCert?: { cert: Buffer; key: Buffer } } {
  const dir = path.join(CERTS_D, host);
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  const ca = names.filter((n) => n.endsWith('.crt')).map((n) => readPem(path.join(dir, n), 'CA certificate').toString());
  const certs = names.filter((n) => n.endsWith('.cert'));
  if (certs.length > 1) throw new Error(`${dir}: ${certs.length} client certificates; keep one`);
  const cert = certs[0];
  if (cert === undefined) return { ca };
  const key = `${cert.slice(0, -'.cert'.length)}.key`;
  if (!names.includes(key)) throw new Error(`${dir}: client certificate ${cert} has no ${key} beside it`);
  return { ca, clientCert: { cert: readPem(path.join(dir, cert), 'client certificate'), key: readPem(path.join(dir, key), 'client key') } };
}

function systemCAs(): string[] {
  return fs.existsSync(SYSTEM_BUNDLE) ? [fs.readFileSync(SYSTEM_BUNDLE, 'utf8')] : [...tls.rootCertificates];
}

export function hostSettings(host: string): HostSettings {
  const entry = configEntry(host);
  const own = certsD(host);
  const extra = (entry.ca ?? []).map((file) => readPem(file, 'CA certificate').toString());
  return {
    host,
    plainHttp: entry.http === true,
    insecure: entry.insecure === true,
    ca: [...systemCAs(), ...own.ca, ...extra],
    ...(own.clientCert ? { clientCert: own.clientCert } : {}),
  };
}
