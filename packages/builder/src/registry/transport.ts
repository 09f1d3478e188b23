// One registry host's HTTP(S) connections: a keep-alive agent with the host's trust settings, and
// network failures told as what they are (a refused connection, a certificate problem, a plain
// http server behind an https URL), each naming the host.
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { HostSettings } from './hosts.js';

export type Body = Buffer | Readable;

export interface Request {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path on the registry, or an absolute URL (upload locations, token realms, redirects). */
  url: string;
  headers?: OutgoingHttpHeaders;
  body?: Body;
}

const MAX_REDIRECTS = 5;
const IDLE_TIMEOUT_MS = 120_000;

/** Why a TLS handshake failed, from OpenSSL's verification code, and what docker users do about it. */
function tlsProblem(host: string, err: NodeJS.ErrnoException): string | undefined {
  const code = err.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `the certificate does not name ${host}: ${err.message}`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ISSUER/.test(code)) {
    return `${err.message} (${code}); trust its CA in /etc/docker/certs.d/${host}/ca.crt, or set insecure = true under [registry."${host}"] in tsbuild.toml`;
  }
  if (code === 'EPROTO' && /wrong version number|packet length too long/i.test(err.message)) {
    return `it does not speak TLS (a plain http registry? set http = true under [registry."${host}"] in tsbuild.toml)`;
  }
  return undefined;
}

export class Transport {
  private readonly agent: http.Agent;
  readonly origin: string;

  constructor(readonly settings: HostSettings) {
    this.origin = `${settings.plainHttp ? 'http' : 'https'}://${settings.host}`;
    this.agent = settings.plainHttp
      ? new http.Agent({ keepAlive: true, maxSockets: 8 })
      : new https.Agent({
        keepAlive: true, maxSockets: 8, ca: settings.ca, rejectUnauthorized: !settings.insecure,
        ...(settings.clientCert ? { cert: settings.clientCert.cert, key: settings.clientCert.key } : {}),
      });
  }

  /** Sends the request, following redirects of GET and HEAD (without credentials to another origin). */
  async send(req: Request): Promise<IncomingMessage> {
    let url = new URL(req.url, this.origin);
    let headers = req.headers ?? {};
    for (let hop = 0; ; hop++) {
      const res = await this.once(req.method, url, headers, req.body);
      const location = res.headers.location;
      if (res.statusCode === undefined || res.statusCode < 300 || res.statusCode >= 400 || location === undefined
        || (req.method !== 'GET' && req.method !== 'HEAD')) return res;
      res.resume();
      if (hop === MAX_REDIRECTS) throw new Error(`${this.settings.host}: more than ${MAX_REDIRECTS} redirects from ${req.url}`);
      const next = new URL(location, url);
      if (next.origin !== url.origin) {
        const { authorization: _dropped, ...rest } = headers;
        headers = rest;
      }
      url = next;
    }
  }

  private once(method: string, url: URL, headers: OutgoingHttpHeaders, body: Body | undefined): Promise<IncomingMessage> {
    const ours = url.origin === this.origin;
    const lib = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const request = lib.request(url, { method, headers, ...(ours ? { agent: this.agent } : {}) }, resolve);
      request.setTimeout(IDLE_TIMEOUT_MS, () => request.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000}s`)));
      request.on('error', (err: NodeJS.ErrnoException) => {
        const why = tlsProblem(url.host, err) ?? (err.code === 'ECONNREFUSED' ? `connection refused (${err.message.replace(/^connect /, '')})` : err.message);
        reject(new Error(`${url.host}: ${why}`));
      });
      if (body === undefined) request.end();
      else if (Buffer.isBuffer(body)) request.end(body);
      else {
        body.on('error', (err) => request.destroy(err));
        body.pipe(request);
      }
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A whole (small) response body: manifests, tokens, error documents. */
export async function readBody(res: IncomingMessage, limit = 8 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      throw new Error(`a response of more than ${limit} bytes where a document was expected`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
