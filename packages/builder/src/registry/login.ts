// `tsbuild login` and `logout`, as docker's: the credentials are first checked against the
// registry (GET /v2/, answering its challenge with them), then stored where docker keeps them.
import { eraseCredentials, storeCredentials, type Credentials } from './credentials.js';
import { readBody } from './transport.js';
import { registryReason, RegistrySession } from './session.js';

/** A registry as login takes it ("https://host:port/v1/", "host:port", nothing for docker.io) to its domain. */
export function loginDomain(text: string | undefined): string {
  if (text === undefined) return 'docker.io';
  const host = text.replace(/^https?:\/\//, '').split('/')[0] ?? '';
  if (host === '') throw new Error(`login: "${text}" names no registry`);
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** Checks the credentials with the registry and stores them; returns where they went. */
export async function login(domain: string, creds: Credentials): Promise<string> {
  const session = new RegistrySession(domain, creds);
  try {
    const res = await session.send({ method: 'GET', url: '/v2/' }, '');
    if (res.statusCode !== 200) throw new Error(`${domain}: /v2/ answered ${await registryReason(res)}`);
    await readBody(res);
  } finally {
    session.close();
  }
  return storeCredentials(domain, creds);
}

export function logout(domain: string): boolean {
  return eraseCredentials(domain);
}
