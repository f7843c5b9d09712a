// Regenerates the npm-jose vectors in tests/data/jose (run once by hand; the files are checked
// in so that jose_test needs no node): a PS256 and an ES256 JWT signed by the npm `jose`
// library, with the public JWKS to verify them. Fixed claim times so the C++ test can pass a
// fixed "now".
//   cd tests/interop && node make_jose_vectors.mjs
import * as jose from 'jose';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', 'data', 'jose');
const write = (name, text) => fs.writeFileSync(path.join(out, name), text + '\n');

const claims = {
  iss: 'https://as.example',
  sub: 'partner-client',
  aud: ['https://api.example', 'https://other.example'],
  scope: 'payments',
  iat: 1700000000,
  nbf: 1700000000,
  exp: 1700000300,
  cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' },
};

for (const alg of ['PS256', 'ES256']) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const pub = await jose.exportJWK(publicKey);
  const priv = await jose.exportJWK(privateKey);
  const kid = await jose.calculateJwkThumbprint(pub);
  Object.assign(pub, { kid, alg, use: 'sig' });
  Object.assign(priv, { kid, alg });
  const token = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .sign(privateKey);
  const lower = alg.toLowerCase();
  write(`npm_jose_${lower}.jwks.json`, JSON.stringify({ keys: [pub] }, null, 2));
  write(`npm_jose_${lower}_private.jwk.json`, JSON.stringify(priv, null, 2));
  write(`npm_jose_${lower}.jwt`, token);
  write(`npm_jose_${lower}.thumbprint`, kid);
}
console.log('wrote npm jose vectors to', out);
