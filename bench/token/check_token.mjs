// bench/token/run: checks that a token response is real before a setup is measured: HTTP 200
// body with token_type Bearer, an RFC 9068 JWT (typ at+jwt) whose signature verifies against the
// server's JWKS with the expected alg, and cnf.x5t#S256 equal to the SHA-256 thumbprint of the
// client certificate (RFC 8705 §3.1). Prints the decoded header and claims; exits 1 on a mismatch.
//
//   node check_token.mjs RESPONSE_JSON JWKS_JSON CLIENT_CERT_PEM EXPECTED_ALG
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [responseText, jwksText, certPath, alg] = process.argv.slice(2);
const fail = (why) => { console.error(`check_token: ${why}`); process.exit(1); };
const response = JSON.parse(responseText);
if (typeof response.access_token !== 'string') fail(`no access_token in ${responseText}`);
if (response.token_type !== 'Bearer') fail(`token_type ${response.token_type}`);
const parts = response.access_token.split('.');
if (parts.length !== 3) fail('not a compact JWS');
const decode = (p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
const header = decode(parts[0]);
const claims = decode(parts[1]);
if (header.alg !== alg) fail(`alg ${header.alg}, expected ${alg}`);
if (header.typ !== 'at+jwt') fail(`typ ${header.typ}`);
const jwk = JSON.parse(jwksText).keys.find((k) => k.kid === header.kid);
if (!jwk) fail(`kid ${header.kid} not in the JWKS`);
const key = createPublicKey({ key: jwk, format: 'jwk' });
const input = Buffer.from(`${parts[0]}.${parts[1]}`);
const sig = Buffer.from(parts[2], 'base64url');
const ok = alg === 'PS256'
  ? verify('sha256', input, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }, sig)
  : verify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig);
if (!ok) fail('signature does not verify');
const cert = new X509Certificate(readFileSync(certPath));
const x5t = createHash('sha256').update(cert.raw).digest('base64url');
if (claims.cnf?.['x5t#S256'] !== x5t) fail(`cnf.x5t#S256 ${claims.cnf?.['x5t#S256']} != ${x5t}`);
for (const c of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']) {
  if (claims[c] === undefined) fail(`claim ${c} missing`);
}
console.log(`token ok: header ${JSON.stringify(header)} claims ${JSON.stringify(claims)}`);
