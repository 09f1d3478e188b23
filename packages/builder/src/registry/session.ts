// Requests to one registry host as docker users expect them to be authorised: anonymous first,
// then, on a 401, what the WWW-Authenticate challenge asks for, with docker's credentials for the
// host: Basic, or a Bearer token from the challenge's realm for the service and scope (with the
// credentials, or anonymous when there are none). Tokens are kept per scope for the build.
import type { IncomingMessage } from 'node:http';
import { configFile, lookupCredentials, type Credentials } from './credentials.js';
import { hostSettings } from './hosts.js';
import { registryHost } from './reference.js';
import { readBody, Transport, type Request } from './transport.js';

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

function parseChallenge(header: string | undefined): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header ?? '');
  const scheme = m?.[1]?.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const [, key, value] of (m?.[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) params[key!.toLowerCase()] = value!;
  return { scheme, params };
}

/** The distribution-spec's error document's first error, as "CODE: message". */
export async function registryReason(res: IncomingMessage): Promise<string> {
  const text = (await readBody(res).catch(() => Buffer.alloc(0))).toString('utf8');
  try {
    const first = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
    if (first) return `${first.code ?? 'error'}: ${first.message ?? ''}`.trim();
  } catch {
    // not JSON: the status line says it
  }
  return `${res.statusCode} ${res.statusMessage ?? ''}`.trim();
}

export class RegistrySession {
  private readonly transport: Transport;
  private readonly tokens = new Map<string, string>();
  private basic: string | undefined;
  /** null until looked up in docker's configuration, on the first challenge. */
  private creds: Credentials | undefined | null;

  /** `credentials` are those `tsbuild login` checks; otherwise docker's for the host are used. */
  constructor(readonly domain: string, credentials?: Credentials) {
    this.transport = new Transport(hostSettings(registryHost(domain)));
    this.creds = credentials ?? null;
  }

  private credentials(): Credentials | undefined {
    if (this.creds === null) this.creds = lookupCredentials(this.domain);
    return this.creds;
  }

  private authorization(scope: string): string | undefined {
    const token = this.tokens.get(scope);
    return token !== undefined ? `Bearer ${token}` : this.basic;
  }

  /**
   * Sends `req` for `scope` ("repository:NAME:pull[,push]"), answering one 401 challenge. A body
   * that is a stream cannot be sent twice: callers authorise first with a bodiless request.
   */
  async send(req: Request, scope: string): Promise<IncomingMessage> {
    const attempt = (auth: string | undefined) => this.transport.send({ ...req, headers: { ...req.headers, ...(auth !== undefined ? { authorization: auth } : {}) } });
    const sent = this.authorization(scope);
    const res = await attempt(sent);
    if (res.statusCode !== 401) return res;
    res.resume();
    const challenge = parseChallenge(res.headers['www-authenticate']);
    if (challenge === undefined) throw new Error(`${this.domain}: 401 Unauthorized without a challenge this client knows (${res.headers['www-authenticate'] ?? 'no WWW-Authenticate'})`);
    if (sent !== undefined || (req.body !== undefined && !Buffer.isBuffer(req.body))) throw this.refused();
    // A concurrent request may have answered the same challenge while this one was out.
    if (this.authorization(scope) === undefined) await this.answer(challenge, scope);
    const again = await attempt(this.authorization(scope));
    if (again.statusCode === 401) {
      again.resume();
      throw this.refused();
    }
    return again;
  }

  private async answer(challenge: Challenge, scope: string): Promise<void> {
    const creds = this.credentials();
    if (challenge.scheme === 'basic') {
      if (creds === undefined || creds.identityToken !== undefined) throw this.refused();
      this.basic = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      return;
    }
    this.tokens.set(scope, await this.token(challenge.params, scope, creds));
  }

  /** A bearer token from the challenge's realm: GET with Basic credentials, or POST with a refresh token. */
  private async token(params: Record<string, string>, scope: string, creds: Credentials | undefined): Promise<string> {
    const realm = params.realm;
    if (!realm) throw new Error(`${this.domain}: a Bearer challenge without a realm`);
    // What this repository needs for the whole operation (a push's HEAD is challenged for pull only,
    // and the upload after it needs push), else what the challenge names.
    // Several scopes (a mount reads another repository) are one scope parameter each, as docker sends them.
    const wanted = scope || params.scope;
    const query = new URLSearchParams(params.service ? { service: params.service } : {});
    for (const one of (wanted ?? '').split(' ').filter(Boolean)) query.append('scope', one);
    const res = creds?.identityToken !== undefined
      ? await this.transport.send({
        method: 'POST', url: realm, headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(new URLSearchParams([['grant_type', 'refresh_token'], ['refresh_token', creds.identityToken], ['client_id', 'tsbuild'], ...query]).toString()),
      })
      : await this.transport.send({
        method: 'GET', url: `${realm}${realm.includes('?') ? '&' : '?'}${query}`,
        headers: creds !== undefined ? { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` } : {},
      });
    if (res.statusCode === 401 || res.statusCode === 403) {
      res.resume();
      throw this.refused();
    }
    if (res.statusCode !== 200) throw new Error(`${this.domain}: the token service ${realm} answered ${await registryReason(res)}`);
    const answer = JSON.parse((await readBody(res)).toString('utf8')) as { token?: string; access_token?: string };
    const token = answer.token ?? answer.access_token;
    if (!token) throw new Error(`${this.domain}: the token service ${realm} gave no token`);
    return token;
  }

  private refused(): Error {
    return this.credentials() === undefined
      ? new Error(`${this.domain}: authentication required (no credentials for ${this.domain} in ${configFile()}; run tsbuild login ${this.domain})`)
      : new Error(`${this.domain}: the credentials for ${this.domain} were refused (unauthorized)`);
  }

  close(): void {
    this.transport.close();
  }
}
