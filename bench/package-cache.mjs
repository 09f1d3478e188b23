#!/usr/bin/env node
// A caching HTTP proxy on 127.0.0.1 for apt (`Acquire::http::Proxy`): each URL fetched from the
// package mirror once, kept in memory, served from there after; prints its URL, serves until
// killed. Once a warm-up build has filled it, the builds bench/compare.mjs times fetch their
// packages at the same speed whichever builder runs and whenever: the mirror itself answered the
// same apt-get in 5.8 s, then in 17.5 s, minutes apart. (Debian's apt-cacher-ng would not bind
// here: "Error resolving address for binding".)
import http from 'node:http';

const kept = new Map();

/** The mirror's answer to `url`, fetched once; only a whole 200 is kept. */
function fetchOnce(url) {
  let entry = kept.get(url);
  if (!entry) {
    entry = new Promise((resolve, reject) => {
      http.get(url, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
        res.on('error', reject);
      }).on('error', reject);
    });
    kept.set(url, entry);
    entry.then((e) => { if (e.status !== 200) kept.delete(url); }, () => kept.delete(url));
  }
  return entry;
}

const server = http.createServer((req, res) => {
  if (req.method !== 'GET' || !req.url?.startsWith('http://')) {
    res.writeHead(405).end();
    return;
  }
  fetchOnce(req.url).then(({ status, type, body }) => {
    res.writeHead(status, { 'content-length': body.length, ...(type ? { 'content-type': type } : {}) }).end(body);
  }, (err) => res.writeHead(502).end(String(err)));
});
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
