// Interop between fapigate's jose module (through the test-only jose_tool CLI) and the npm `jose`
// library, for every algorithm fapigate allows (PS256, ES256, EdDSA):
//   1. npm jose generates keys and signs JWTs; jose_tool verifies them (and signs with the
//      npm-generated private JWK, which npm jose verifies);
//   2. jose_tool generates keys and signs; npm jose verifies with the public JWK, and the RFC 7638
//      thumbprints agree;
//   3. negatives in both directions: another key with the same kid, algorithms outside the
//      allow-list (HS256 with the public key as secret, RS256, none), an expired token;
//   4. encrypted ID tokens: jose_tool encrypts a signed JWT to an npm-generated RSA key (chosen
//      from a JWKS beside a signing key) with every key-management alg and content encryption
//      fapigate offers, and npm jose decrypts it (compactDecrypt) to the same bytes; a key of
//      the wrong OAEP variant, RSA1_5 and a JWKS without an encryption key are refused.
// Usage: node jose_interop.mjs /path/to/jose_tool   (run from tests/interop, after npm ci)
// Prints one line per check and a summary; exits 1 if any check fails.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const tool = process.argv[2];
if (!tool || !fs.existsSync(tool)) {
  console.error('usage: node jose_interop.mjs /path/to/jose_tool');
  process.exit(2);
}

let jose;
try {
  jose = await import('jose');
} catch (e) {
  console.error('jose_interop: npm package "jose" is missing; run scripts/install-deps ' +
                '(or `npm ci` in tests/interop). ' + e.message);
  process.exit(1);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fapigate-jose-interop-'));
const results = [];

function record(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}`);
}

async function check(name, fn) {
  try {
    const detail = await fn();
    record(name, true, typeof detail === 'string' ? detail : '');
  } catch (e) {
    record(name, false, e && e.message ? e.message : String(e));
  }
}

function write(name, content) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

function run(...args) {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  return { code: r.status, out: (r.stdout || '').trim(), err: (r.stderr || '').trim() };
}

function expectToolOk(r, what) {
  if (r.code !== 0) {
    throw new Error(`${what}: jose_tool exited ${r.code}: ${r.err}`);
  }
  return r.out;
}

function expectToolFails(r, pattern, what) {
  if (r.code === 0) {
    throw new Error(`${what}: jose_tool accepted it: ${r.out}`);
  }
  if (pattern && !pattern.test(r.err)) {
    throw new Error(`${what}: unexpected error: ${r.err}`);
  }
  return r.err.replace(/^jose_tool: /, '');
}

async function expectNpmRejects(promise, what) {
  try {
    await promise;
  } catch (e) {
    return e.code || e.message;
  }
  throw new Error(`${what}: npm jose accepted it`);
}

const now = Math.floor(Date.now() / 1000);
const claims = {
  iss: 'https://as.example',
  sub: 'partner-client',
  aud: 'https://api.example',
  scope: 'payments',
};
const algs = ['PS256', 'ES256', 'EdDSA'];

async function npmKeyPair(alg, kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const pub = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
  const priv = { ...(await jose.exportJWK(privateKey)), kid, alg };
  return { publicKey, privateKey, pub, priv };
}

async function npmSign(alg, privateKey, kid, extra = {}, expSeconds = 300) {
  return new jose.SignJWT({ ...claims, ...extra })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setIssuedAt(now)
    .setExpirationTime(now + expSeconds)
    .sign(privateKey);
}

for (const alg of algs) {
  const a = await npmKeyPair(alg, `npm-${alg}`);
  const b = await npmKeyPair(alg, `npm-${alg}`);  // same kid, other key
  const jwksA = write(`npm-${alg}-a.jwks.json`, { keys: [a.pub] });

  // ---- 1. npm signs, fapigate verifies
  await check(`${alg}: npm jose signs, fapigate verifies`, async () => {
    const token = await npmSign(alg, a.privateKey, a.pub.kid);
    const out = expectToolOk(run('verify', jwksA, write(`npm-${alg}.jwt`, token), alg), 'verify');
    const payload = JSON.parse(out);
    if (payload.sub !== claims.sub || payload.exp !== now + 300) {
      throw new Error(`payload mismatch: ${out}`);
    }
  });

  await check(`${alg}: fapigate signs with npm's private JWK, npm jose verifies`, async () => {
    const payload = write(`p-${alg}.json`, JSON.stringify({ ...claims, iat: now, exp: now + 60 }));
    const token = expectToolOk(run('sign', alg, write(`npm-${alg}-priv.jwk.json`, a.priv), payload,
                                   'at+jwt'), 'sign');
    await jose.jwtVerify(token, a.publicKey, {
      algorithms: [alg], typ: 'at+jwt', issuer: claims.iss, audience: claims.aud,
    });
  });

  await check(`${alg}: npm thumbprint equals fapigate thumbprint`, async () => {
    const ours = expectToolOk(run('thumbprint', write(`npm-${alg}-pub.jwk.json`, a.pub)), 'thumbprint');
    const theirs = await jose.calculateJwkThumbprint(a.pub);
    if (ours !== theirs) {
      throw new Error(`${ours} != ${theirs}`);
    }
    return ours;
  });

  // ---- 2. fapigate generates and signs, npm verifies
  await check(`${alg}: fapigate keygen + sign, npm jose verifies`, async () => {
    const privText = expectToolOk(run('keygen', alg), 'keygen');
    const priv = JSON.parse(privText);
    const privFile = write(`ours-${alg}-priv.jwk.json`, privText);
    const pub = JSON.parse(expectToolOk(run('public', privFile), 'public'));
    if ('d' in pub || 'p' in pub) {
      throw new Error('public JWK carries private members');
    }
    const payload = write(`q-${alg}.json`, JSON.stringify({ ...claims, iat: now, exp: now + 60 }));
    const token = expectToolOk(run('sign', alg, privFile, payload, 'at+jwt'), 'sign');
    const key = await jose.importJWK(pub, alg);
    const { payload: got, protectedHeader } = await jose.jwtVerify(token, key, {
      algorithms: [alg], typ: 'at+jwt', issuer: claims.iss, audience: claims.aud,
    });
    if (got.sub !== claims.sub || protectedHeader.kid !== priv.kid || protectedHeader.alg !== alg) {
      throw new Error(`unexpected header/payload ${JSON.stringify(protectedHeader)}`);
    }
    // npm jose also accepts fapigate's private JWK (all members present and well-formed).
    await jose.importJWK(priv, alg);
    const thumb = await jose.calculateJwkThumbprint(pub);
    if (thumb !== priv.kid) {
      throw new Error(`kid ${priv.kid} is not the npm thumbprint ${thumb}`);
    }
    return `kid ${priv.kid}`;
  });

  // ---- 3. negatives
  await check(`${alg}: fapigate refuses npm token signed by another key with the same kid`, async () => {
    const token = await npmSign(alg, b.privateKey, b.pub.kid);
    return expectToolFails(run('verify', jwksA, write(`bad-${alg}.jwt`, token), alg),
                           /signature/, 'verify');
  });

  await check(`${alg}: npm jose refuses fapigate token signed by another key`, async () => {
    const privB = write(`npm-${alg}-b-priv.jwk.json`, b.priv);
    const payload = write(`r-${alg}.json`, JSON.stringify({ ...claims, iat: now, exp: now + 60 }));
    const token = expectToolOk(run('sign', alg, privB, payload), 'sign');
    return expectNpmRejects(jose.jwtVerify(token, a.publicKey, { algorithms: [alg] }), 'verify');
  });

  await check(`${alg}: fapigate refuses an allowed alg left out of its allow-list`, async () => {
    const token = await npmSign(alg, a.privateKey, a.pub.kid);
    const others = algs.filter((x) => x !== alg);
    return expectToolFails(run('verify', jwksA, write(`nl-${alg}.jwt`, token), ...others),
                           /not allowed/, 'verify');
  });

  await check(`${alg}: fapigate refuses an expired npm token`, async () => {
    const token = await npmSign(alg, a.privateKey, a.pub.kid, { iat: now - 7200 }, -3600);
    return expectToolFails(run('verify', jwksA, write(`exp-${alg}.jwt`, token), alg),
                           /expired/, 'verify');
  });
}

// Algorithms fapigate must refuse whatever key it holds.
const rsa = await npmKeyPair('PS256', 'rsa');
const rsaJwks = write('rsa.jwks.json', { keys: [rsa.pub] });

await check('HS256 keyed with the RSA public JWK is refused', async () => {
  const secret = new TextEncoder().encode(JSON.stringify(rsa.pub));
  const token = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'rsa' })
    .setIssuedAt(now).setExpirationTime(now + 60).sign(secret);
  return expectToolFails(run('verify', rsaJwks, write('hs256.jwt', token), ...algs),
                         /not allowed/, 'verify');
});

await check('RS256 with the right RSA key is refused', async () => {
  const { privateKey } = await jose.importJWK({ ...rsa.priv, alg: 'RS256' }, 'RS256')
    .then((k) => ({ privateKey: k }));
  const token = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'rsa' })
    .setIssuedAt(now).setExpirationTime(now + 60).sign(privateKey);
  return expectToolFails(run('verify', rsaJwks, write('rs256.jwt', token), ...algs),
                         /not allowed/, 'verify');
});

await check('unsecured JWT (alg none) is refused', async () => {
  const token = new jose.UnsecuredJWT(claims).setIssuedAt(now).setExpirationTime(now + 60).encode();
  return expectToolFails(run('verify', rsaJwks, write('none.jwt', token), ...algs),
                         /not allowed/, 'verify');
});

// Encrypted ID tokens (OIDC Core §10.2): fapigate encrypts, npm jose decrypts.
const nested = await npmSign('PS256', rsa.privateKey, 'rsa');
const nestedFile = write('nested.jwt', nested);
for (const alg of ['RSA-OAEP-256', 'RSA-OAEP']) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const encJwk = { ...(await jose.exportJWK(publicKey)), kid: `enc-${alg}`, use: 'enc', alg };
  const jwks = write(`enc-${alg}.jwks.json`, { keys: [rsa.pub, encJwk] });
  for (const enc of ['A128CBC-HS256', 'A256CBC-HS512', 'A128GCM', 'A256GCM']) {
    await check(`${alg} + ${enc}: fapigate encrypts, npm jose decrypts to the signed JWT`, async () => {
      const jwe = expectToolOk(run('encrypt', alg, enc, jwks, nestedFile), 'encrypt');
      const { plaintext, protectedHeader } = await jose.compactDecrypt(jwe, privateKey, {
        keyManagementAlgorithms: [alg], contentEncryptionAlgorithms: [enc],
      });
      if (new TextDecoder().decode(plaintext) !== nested) throw new Error('plaintext differs');
      for (const [k, v] of Object.entries({ alg, enc, kid: `enc-${alg}`, cty: 'JWT' })) {
        if (protectedHeader[k] !== v) throw new Error(`header ${k} is ${protectedHeader[k]}`);
      }
      await jose.jwtVerify(new TextDecoder().decode(plaintext), rsa.publicKey, { algorithms: ['PS256'] });
      return `${jwe.length} bytes`;
    });
  }
  await check(`${alg}: npm jose refuses fapigate's JWE with one ciphertext byte changed`, async () => {
    const parts = expectToolOk(run('encrypt', alg, 'A256GCM', jwks, nestedFile), 'encrypt').split('.');
    const ct = Buffer.from(parts[3], 'base64url');
    ct[0] ^= 1;
    parts[3] = ct.toString('base64url');
    return expectNpmRejects(jose.compactDecrypt(parts.join('.'), privateKey), 'decrypt');
  });
}
await check('encryption refused: a key of the other OAEP variant, RSA1_5, no encryption key', async () => {
  const { publicKey } = await jose.generateKeyPair('RSA-OAEP', { extractable: true });
  const oaep = write('oaep.jwks.json', { keys: [{ ...(await jose.exportJWK(publicKey)), use: 'enc', alg: 'RSA-OAEP' }] });
  expectToolFails(run('encrypt', 'RSA-OAEP-256', 'A256GCM', oaep, nestedFile), /encryption key/, 'other variant');
  expectToolFails(run('encrypt', 'RSA1_5', 'A128CBC-HS256', oaep, nestedFile), /not offered/, 'RSA1_5');
  return expectToolFails(run('encrypt', 'RSA-OAEP-256', 'A256GCM', rsaJwks, nestedFile), /encryption key/,
                         'signing keys only');
});

fs.rmSync(dir, { recursive: true, force: true });

const failed = results.filter((r) => !r.ok);
console.log(`\njose npm interop: ${results.length - failed.length}/${results.length} checks passed` +
            ` (npm jose ${JSON.parse(fs.readFileSync(new URL('./node_modules/jose/package.json',
                                                             import.meta.url))).version})`);
if (failed.length) {
  console.log('failed:\n' + failed.map((r) => `  - ${r.name}`).join('\n'));
  process.exit(1);
}
