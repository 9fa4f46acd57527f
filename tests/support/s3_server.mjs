// s3_server.mjs - the S3-compatible server the package store's tests talk to: s3rver (the npm
// package, installed under build/peers/s3rver by scripts/test) behind a proxy that checks every
// request's AWS Signature Version 4 the way S3 documents it, since s3rver itself checks only
// that the access key exists:
//   canonical request = method, canonical URI (each path segment URI-encoded once), canonical
//   query (names and values encoded, sorted), the signed headers (lower-case, trimmed), the
//   signed header list and the payload hash from x-amz-content-sha256, which must be the
//   body's SHA-256; string to sign with the date and scope; the signing key derived from the
//   secret, date, region and service.
// A wrong access key answers 403 InvalidAccessKeyId, a wrong signature 403
// SignatureDoesNotMatch, a body that does not match its hash 400 XAmzContentSHA256Mismatch.
//
// Faults for the tests, by object key: a key holding "fail-part2" gets HTTP 500 for its part 2;
// a key holding "stall-part2" never gets an answer for its part 2 (the client must be killed).
// Every request is appended to LOG as a JSON line when it arrives ({"at": "start", ...}) and
// when it is answered ({"at": "end", "status": N, ...}).
//
// usage: node s3_server.mjs PORT DATA_DIR LOG ACCESS_KEY_ID SECRET BUCKET
// Prints "ready PORT" on stdout once both servers listen.
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const [port, dataDir, logFile, keyId, secret, bucket] = process.argv.slice(2);
const peers = process.env.NEWSROOM_PEERS_DIR;
const require = createRequire(path.join(peers, 's3rver', 'package.json'));
const S3rver = require('s3rver');
const Account = require('s3rver/lib/models/account');

Account.DUMMY_ACCOUNT.createKeyPair(keyId, secret);

const log = (o) => appendFileSync(logFile, JSON.stringify(o) + '\n');

const rfc3986 = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function s3Error(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${message}</Message></Error>`);
  return status;
}

// Returns null when the request is signed right, else [status, code, message].
function verify(req, body) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return [403, 'AccessDenied', 'missing or malformed AWS4-HMAC-SHA256 Authorization'];
  const [, id, date, region, service, signedList, signature] = m;
  if (id !== keyId) return [403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  if (service !== 's3') return [403, 'SignatureDoesNotMatch', 'service is not s3'];
  const amzDate = req.headers['x-amz-date'] || '';
  if (!amzDate.startsWith(date)) return [403, 'SignatureDoesNotMatch', 'x-amz-date does not match the credential date'];
  const signed = signedList.split(';');
  for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256'])
    if (!signed.includes(h)) return [403, 'SignatureDoesNotMatch', `${h} is not signed`];
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (payloadHash !== 'UNSIGNED-PAYLOAD' &&
      payloadHash !== createHash('sha256').update(body).digest('hex'))
    return [400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.'];
  const url = new URL(req.url, 'http://x');
  const canonicalUri = url.pathname.split('/').map((seg) => rfc3986(decodeURIComponent(seg))).join('/');
  const pairs = [];
  for (const part of url.search.replace(/^\?/, '').split('&').filter(Boolean)) {
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    pairs.push([rfc3986(k), rfc3986(v)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const canonicalQuery = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const canonicalHeaders = signed
    .map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonical = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedList, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let k = createHmac('sha256', 'AWS4' + secret).update(date).digest();
  k = createHmac('sha256', k).update(region).digest();
  k = createHmac('sha256', k).update(service).digest();
  k = createHmac('sha256', k).update('aws4_request').digest();
  if (createHmac('sha256', k).update(toSign).digest('hex') !== signature)
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'];
  return null;
}

const inner = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, directory: dataDir,
  configureBuckets: [{ name: bucket }],
});
const { port: innerPort } = await inner.run();

const proxy = http.createServer((req, res) => {
  const chunks = [];
  const url = new URL(req.url, 'http://x');
  const entry = { method: req.method, path: url.pathname, query: url.search };
  log({ at: 'start', ...entry });
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const bad = verify(req, body);
    if (bad) {
      log({ at: 'end', status: s3Error(res, ...bad), code: bad[1], ...entry });
      return;
    }
    const part = url.searchParams.get('partNumber');
    if (part === '2' && url.pathname.includes('fail-part2')) {
      log({ at: 'end', status: s3Error(res, 500, 'InternalError', 'injected failure of part 2'), ...entry });
      return;
    }
    if (part === '2' && url.pathname.includes('stall-part2')) {
      log({ at: 'stalled', ...entry });
      return; // never answered
    }
    const fwd = http.request({ host: '127.0.0.1', port: innerPort, method: req.method, path: req.url,
      headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
      up.on('end', () => log({ at: 'end', status: up.statusCode, ...entry }));
    });
    fwd.on('error', (e) => log({ at: 'end', status: s3Error(res, 502, 'BadGateway', e.message), ...entry }));
    fwd.end(body);
  });
});
proxy.listen(Number(port), '127.0.0.1', () => process.stdout.write(`ready ${proxy.address().port}\n`));
process.on('SIGTERM', async () => {
  proxy.close();
  await inner.close();
  process.exit(0);
});
