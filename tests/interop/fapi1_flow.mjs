// FAPI 1.0 Advanced and dynamic client registration against `fapigate demo`, driven by the npm
// library openid-client (v6) as a relying party uses it, with the demo's `fapi1-partner`
// (tls_client_auth, FAPI 1.0 Advanced profile, registered for `code id_token` and for `code`
// with JARM, PAR optional; its request-object key is the ES256 JWK in jwks_private_file, which
// FAPI 1.0 Part 2 §8.6 allows beside PS256). The checks are made by the library's own
// validation (discovery, JAR signing, PAR, JARM and ID token verification, c_hash/s_hash,
// registration), not by hand-written protocol code. What it proves:
//   1. discovery with the demo CA is accepted (issuer match), advertises what a FAPI 1.0 client
//      needs, and the library uses the RFC 8705 §5 mTLS aliases with TlsClientAuth;
//   2. FAPI 1.0 Advanced, `code` + JARM: a signed request object (JAR, RFC 9101: exp, nbf,
//      aud = issuer, nonce, state, PKCE S256, response_mode jwt) pushed over mTLS (RFC 9126);
//      the browser comes back with only `response=` (MS-04); openid-client verifies the JARM
//      JWT and then, at the code exchange, the ID token (nonce; at_hash and auth_time checked
//      here); the access token is bound to the fapi1-partner certificate (cnf.x5t#S256, F1-03)
//      and the gateway serves it with that certificate and refuses it with another (N-70);
//   3. hybrid `code id_token` with the request object by value at /authorize: the front-channel
//      ID token is a detached signature whose c_hash and s_hash openid-client verifies
//      (enableDetachedSignatureResponseChecks, F1-12), then the code exchange and a payment;
//   4. refusals with the exact error the server returns (fapi-requirements N-01..N-17): a
//      request object signed by another key, without exp, with nbf 70 min ago, with exp 70 min
//      ahead, with a wrong aud or the PAR URL as aud (an [issuer, other] aud must pass, N-08),
//      response_type code without JARM, and plain or foreign-signed requests by value;
//   5. RFC 7591 registration (openid-client dynamicClientRegistration) with the initial access
//      token and a software statement signed (npm jose) with the demo directory key, for a
//      certificate minted here with the demo CA; the new client gets a bound token by
//      client_credentials over mTLS (clientCredentialsGrant); RFC 7592 read, update (token
//      rotation) and delete; refusals: no initial access token (401 invalid_token), an http
//      redirect URI (400 invalid_redirect_uri), a statement with a bad signature (400
//      invalid_software_statement) or from an unknown key (400 unapproved_software_statement),
//      all RFC 7591 §3.2.2 codes;
//   6. encrypted ID tokens (F1-13): a client registered with id_token_encrypted_response_alg
//      RSA-OAEP-256 / _enc A256GCM and an RSA encryption key runs PAR + login + code exchange;
//      the ID token travels as a JWE and openid-client decrypts and verifies it
//      (enableDecryptingResponses); RSA1_5 is refused at registration.
// Usage: node fapi1_flow.mjs /path/to/fapigate   (from tests/interop, after npm ci)
// Prints one PASS/FAIL line per check and a summary; exits 1 if any check fails.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
  assert, assertEqual, binaryArgument, browserAuthorize, certThumbprint, check, importPackages,
  leftHalfHash, record, startDemo, summary,
} from './lib/harness.mjs';

const [client, jose] = await importPackages('fapi1_flow', ['openid-client', 'jose']);
const binary = binaryArgument('fapi1_flow.mjs');

// ---- helpers ------------------------------------------------------------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// A private JWK file holds a single JWK or a JWK set with one key.
function readJwk(file) {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  return Array.isArray(j.keys) ? j.keys[0] : j;
}

// The status and OAuth error code of a refusal as openid-client reports it: a JSON error body
// (ResponseBodyError) or an RFC 6750 challenge (WWWAuthenticateChallengeError).
function refusal(e) {
  if (e instanceof client.ResponseBodyError) {
    return { status: e.status, error: e.error, description: e.error_description };
  }
  if (e instanceof client.WWWAuthenticateChallengeError) {
    const c = (e.cause || [])[0];
    return { status: e.status, error: c?.parameters?.error, description: c?.parameters?.error_description };
  }
  throw e;
}

// Runs fn, which must be refused by the server with exactly this status and error code.
async function expectRefusal(fn, status, error) {
  let result;
  try {
    result = await fn();
  } catch (e) {
    const r = refusal(e);
    assertEqual(r.status, status, 'HTTP status');
    assertEqual(r.error, error, 'error code');
    return `${r.status} ${r.error}${r.description ? `: ${r.description}` : ''}`;
  }
  throw new Error(`expected ${status} ${error}, but the request succeeded: ${String(result).slice(0, 200)}`);
}

function need(value, what) {
  if (value === undefined || value === null) throw new Error(`prerequisite missing: ${what}`);
  return value;
}

// ---- the run ------------------------------------------------------------------------------------

let run;
try {
  run = await startDemo(binary);
} catch (e) {
  record('demo starts and prints ready', false, e.message);
  process.exit(summary('fapi1_openid_client_interop'));
}

const { demo, mtlsFetch, stop, dir } = run;
try {
  await main(demo, mtlsFetch, dir);
} catch (e) {
  record('script ran to the end', false, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e));
} finally {
  const code = await stop();
  if (code !== 0 && code !== 'SIGTERM') record('demo stops cleanly on SIGTERM', false, `exit ${code}`);
}
process.exit(summary('fapi1_openid_client_interop'));

async function main(demo, mtlsFetch, workDir) {
  const f1 = demo.fapi1_partner;
  const issuer = new URL(demo.issuer);
  const f1Fetch = mtlsFetch(f1.cert_file, f1.key_file);
  const browser = mtlsFetch(); // a browser: trusts the demo CA, presents no certificate
  const jwk = readJwk(f1.jwks_private_file);
  const roKey = { key: await jose.importJWK(jwk, jwk.alg), kid: jwk.kid };
  const f1Thumbprint = certThumbprint(f1.cert_file);
  const [accountsMethod, accountsPath] = demo.resources.accounts.split(' ');
  const [paymentsMethod, paymentsPath] = demo.resources.payments.split(' ');
  const readScope = demo.scopes.read;
  const writeScope = demo.scopes.write;

  // The demo registers fapi1-partner as tls_client_auth (src/cli/demo_cmd.cpp,
  // add_front_channel): TlsClientAuth, certificate-bound tokens, and the mTLS aliases for
  // token and PAR. Responses are signed with the AS key (PS256 in the demo).
  const clientMetadata = {
    client_id: f1.client_id,
    redirect_uris: [f1.redirect_uri],
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_certificate_bound_access_tokens: true,
    use_mtls_endpoint_aliases: true,
    id_token_signed_response_alg: 'PS256',
    authorization_signed_response_alg: 'PS256',
    request_object_signing_alg: jwk.alg,
  };
  let server;
  const fapi1Config = (...extensions) => {
    const c = new client.Configuration(need(server, 'discovery'), f1.client_id, clientMetadata, client.TlsClientAuth());
    c[client.customFetch] = f1Fetch;
    for (const ext of extensions) ext(c);
    return c;
  };
  const freshRequest = async (scope) => {
    const verifier = client.randomPKCECodeVerifier();
    return {
      verifier,
      state: client.randomState(),
      nonce: client.randomNonce(),
      params: {
        redirect_uri: f1.redirect_uri,
        scope,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      },
    };
  };
  const withNonceState = (r) => ({ ...r.params, state: r.state, nonce: r.nonce });

  // 1. Discovery ----------------------------------------------------------------------------------
  await check('discovery: openid-client accepts the metadata over TLS with the demo CA (customFetch)', async () => {
    const discovered = await client.discovery(issuer, f1.client_id, clientMetadata, client.TlsClientAuth(), {
      [client.customFetch]: f1Fetch,
    });
    server = discovered.serverMetadata();
    assertEqual(server.issuer, demo.issuer, 'issuer');
    assert(server.token_endpoint_auth_methods_supported?.includes('tls_client_auth'), 'tls_client_auth not advertised');
    assertEqual(server.tls_client_certificate_bound_access_tokens, true, 'tls_client_certificate_bound_access_tokens');
    assert(server.response_types_supported?.includes('code id_token'), 'code id_token not advertised');
    assert(server.response_modes_supported?.includes('jwt'), 'response_mode jwt (JARM) not advertised');
    assert(server.request_object_signing_alg_values_supported?.includes(jwk.alg), `${jwk.alg} request objects not advertised`);
    assert(server.request_parameter_supported === true, 'request_parameter_supported is not true');
    assert(server.authorization_signing_alg_values_supported?.includes('PS256'), 'PS256 JARM not advertised');
    assertEqual(server.mtls_endpoint_aliases?.token_endpoint, demo.token_endpoint, 'mtls alias of the token endpoint');
    assertEqual(server.mtls_endpoint_aliases?.pushed_authorization_request_endpoint,
                demo.pushed_authorization_request_endpoint, 'mtls alias of PAR');
    return `issuer ${server.issuer}; token/PAR aliases on the mTLS port`;
  });

  // 2. FAPI 1.0 Advanced: code + JARM, request object pushed over mTLS ----------------------------
  const jarm = fapi1Config(client.useJwtResponseMode);
  const r2 = await freshRequest(`openid ${readScope}`);
  let jarUrl;
  await check('JAR: buildAuthorizationUrlWithJAR signs a FAPI 1.0 request object (F1-05..F1-07, F1-32)', async () => {
    jarUrl = await client.buildAuthorizationUrlWithJAR(jarm, withNonceState(r2), roKey);
    const request = jarUrl.searchParams.get('request');
    const header = jose.decodeProtectedHeader(request);
    const claims = jose.decodeJwt(request);
    assertEqual(header.alg, jwk.alg, 'request object alg');
    assertEqual(header.kid, jwk.kid, 'request object kid');
    assertEqual(claims.aud, demo.issuer, 'aud');
    assertEqual(claims.iss, f1.client_id, 'iss');
    assertEqual(claims.response_type, 'code', 'response_type');
    assertEqual(claims.response_mode, 'jwt', 'response_mode');
    assertEqual(claims.state, r2.state, 'state');
    assertEqual(claims.nonce, r2.nonce, 'nonce');
    assertEqual(claims.code_challenge_method, 'S256', 'code_challenge_method');
    assert(Number.isInteger(claims.exp) && Number.isInteger(claims.nbf) && claims.exp - claims.nbf <= 3600,
           'exp/nbf missing or more than 60 min apart');
    return `${header.alg}, exp-nbf=${claims.exp - claims.nbf}s`;
  });

  let parUrl;
  await check('PAR: the signed request object is pushed over mTLS (TlsClientAuth) and /authorize gets only client_id + request_uri', async () => {
    parUrl = await client.buildAuthorizationUrlWithPAR(jarm, need(jarUrl, 'request object').searchParams);
    assertEqual(parUrl.origin + parUrl.pathname, demo.authorization_endpoint, 'authorization endpoint');
    assertEqual([...parUrl.searchParams.keys()].sort().join(','), 'client_id,request_uri', 'authorize parameters');
    assert(parUrl.searchParams.get('request_uri').startsWith('urn:ietf:params:oauth:request_uri:'), 'request_uri shape');
  });

  let jarmCallback;
  await check('JARM: the browser returns with only response= in the query (MS-04, F1-14)', async () => {
    const { location } = await browserAuthorize(browser, need(parUrl, 'PAR'), demo.user);
    need(location, 'redirect to the client');
    assertEqual(location.origin + location.pathname, f1.redirect_uri, 'redirect target');
    assertEqual([...location.searchParams.keys()].join(','), 'response', 'callback parameters');
    assertEqual(location.hash, '', 'fragment');
    const header = jose.decodeProtectedHeader(location.searchParams.get('response'));
    assertEqual(header.alg, 'PS256', 'JARM alg');
    jarmCallback = location;
    return `JARM JWT ${header.alg}, kid ${header.kid}`;
  });

  await check('JARM: openid-client refuses the response with one signature byte changed (the check below is real)', async () => {
    const tampered = new URL(need(jarmCallback, 'JARM callback'));
    const [h, p, sig] = tampered.searchParams.get('response').split('.');
    const bytes = Buffer.from(sig, 'base64url');
    bytes[bytes.length >> 1] ^= 0x01;
    tampered.searchParams.set('response', [h, p, b64url(bytes)].join('.'));
    try {
      // Refused before the token endpoint is called, so the real code stays unspent.
      await client.authorizationCodeGrant(jarm, tampered, { pkceCodeVerifier: r2.verifier, expectedState: r2.state });
    } catch (e) {
      assert(!(e instanceof client.ResponseBodyError), `the code reached the token endpoint: ${e.message}`);
      const why = e.cause?.message ?? e.message;
      assert(/signature/i.test(why), `refused for another reason: ${why}`);
      return `${e.code ?? e.name}: ${why}`;
    }
    throw new Error('a tampered JARM response was accepted');
  });

  let jarmTokens;
  await check('authorizationCodeGrant: openid-client verifies the JARM response and the ID token over mTLS', async () => {
    jarmTokens = await client.authorizationCodeGrant(jarm, need(jarmCallback, 'JARM callback'), {
      pkceCodeVerifier: r2.verifier,
      expectedState: r2.state,
      expectedNonce: r2.nonce,
      idTokenExpected: true,
    });
    assert(typeof jarmTokens.access_token === 'string', 'no access_token');
    assertEqual(jarmTokens.token_type?.toLowerCase(), 'bearer', 'token_type');
    assert(typeof jarmTokens.refresh_token === 'string', 'no refresh_token (fapi1-partner has the refresh_token grant)');
  });

  await check('ID token: nonce, at_hash of the access token, auth_time, acr (OIDC Core §2, §3.1.3.6)', async () => {
    const t = need(jarmTokens, 'tokens');
    const claims = t.claims();
    assertEqual(claims.nonce, r2.nonce, 'nonce');
    assertEqual(claims.aud, f1.client_id, 'aud');
    assertEqual(claims.at_hash, leftHalfHash(t.access_token), 'at_hash');
    assert(Number.isInteger(claims.auth_time) && claims.auth_time <= claims.iat, 'auth_time missing or after iat');
    // The acr of the login page (authorization_server.login_acr), as discovery lists it.
    const acrs = server.acr_values_supported;
    assert(Array.isArray(acrs) && acrs.length === 1, 'discovery lists no acr_values_supported');
    assertEqual(claims.acr, acrs[0], 'acr');
    return `sub ${claims.sub}, auth_time ${claims.auth_time}, acr ${claims.acr}`;
  });

  await check('access token: cnf.x5t#S256 is the fapi1-partner certificate thumbprint (RFC 8705 §3.1, F1-03)', async () => {
    const at = jose.decodeJwt(need(jarmTokens, 'tokens').access_token);
    assertEqual(at.cnf?.['x5t#S256'], f1Thumbprint, 'cnf.x5t#S256');
    assertEqual(at.client_id, f1.client_id, 'client_id');
    assert(String(at.scope).split(' ').includes(readScope), `scope ${readScope} missing`);
  });

  await check(`gateway: ${accountsMethod} ${accountsPath} with the token and the fapi1-partner certificate -> 200`, async () => {
    const res = await client.fetchProtectedResource(jarm, need(jarmTokens, 'tokens').access_token,
      new URL(accountsPath, demo.gateway_url), accountsMethod);
    assertEqual(res.status, 200, 'status');
    await res.text();
  });

  await check('gateway: the same token with another partner certificate -> 401 invalid_token (N-70)', async () => {
    const other = mtlsFetch(demo.partner.cert_file, demo.partner.key_file);
    const res = await other(new URL(accountsPath, demo.gateway_url), {
      method: accountsMethod,
      headers: { authorization: `Bearer ${need(jarmTokens, 'tokens').access_token}` },
    });
    await res.text();
    assertEqual(res.status, 401, 'status');
    assert(/error="invalid_token"/.test(res.headers.get('www-authenticate') || ''), 'WWW-Authenticate lacks invalid_token');
  });

  // 3. Hybrid code id_token, request object by value ----------------------------------------------
  // The demo registers fapi1-partner for "code id_token" (demo_cmd.cpp), so this runs.
  const hybrid = fapi1Config(client.useCodeIdTokenResponseType, client.enableDetachedSignatureResponseChecks);
  const r3 = await freshRequest(`openid ${writeScope}`);
  let hybridCallback;
  await check('hybrid: code id_token by value at /authorize, answered in the fragment (F1-02, F1-11)', async () => {
    const url = await client.buildAuthorizationUrlWithJAR(hybrid, withNonceState(r3), roKey);
    // FAPI 1.0 Part 2 §5.2.3-9 (and OIDC Core §6.1): without PAR the client also sends
    // response_type and scope outside the object; openid-client sends only client_id and request.
    url.searchParams.set('response_type', 'code id_token');
    url.searchParams.set('scope', `openid ${writeScope}`);
    const { location } = await browserAuthorize(browser, url, demo.user);
    need(location, 'redirect to the client');
    assertEqual(location.search, '', 'query (the hybrid response belongs in the fragment)');
    const frag = new URLSearchParams(location.hash.slice(1));
    for (const k of ['code', 'id_token', 'state', 'iss']) assert(frag.has(k), `fragment lacks ${k}`);
    const idt = jose.decodeJwt(frag.get('id_token'));
    assertEqual(idt.c_hash, leftHalfHash(frag.get('code')), 'c_hash');
    assertEqual(idt.s_hash, leftHalfHash(r3.state), 's_hash');
    hybridCallback = location;
  });

  let hybridTokens;
  await check('hybrid: openid-client verifies the detached signature (c_hash, s_hash) and redeems the code', async () => {
    hybridTokens = await client.authorizationCodeGrant(hybrid, need(hybridCallback, 'hybrid callback'), {
      pkceCodeVerifier: r3.verifier,
      expectedState: r3.state,
      expectedNonce: r3.nonce,
    });
    const at = jose.decodeJwt(hybridTokens.access_token);
    assertEqual(at.cnf?.['x5t#S256'], f1Thumbprint, 'cnf.x5t#S256');
    assertEqual(hybridTokens.claims().nonce, r3.nonce, 'token endpoint ID token nonce');
  });

  await check(`hybrid: the token pays through the gateway (${paymentsMethod} ${paymentsPath})`, async () => {
    const res = await client.fetchProtectedResource(hybrid, need(hybridTokens, 'tokens').access_token,
      new URL(paymentsPath, demo.gateway_url), paymentsMethod,
      JSON.stringify({ instructed_amount: { amount: '10.00', currency: 'EUR' } }),
      new Headers({ 'content-type': 'application/json' }));
    const body = await res.text();
    assert(res.status === 200 || res.status === 201, `status ${res.status}: ${body.slice(0, 200)}`);
  });

  // 4. Refusals -----------------------------------------------------------------------------------
  // At PAR the server answers RFC 9126 §2.3 JSON errors; every request-object defect is
  // invalid_request_object (RFC 9101 §7, N-02..N-12), which openid-client surfaces as
  // ResponseBodyError.
  const pushWith = async (cfg, params, key, modify) => {
    const url = await client.buildAuthorizationUrlWithJAR(cfg, params, key,
      modify ? { [client.modifyAssertion]: modify } : undefined);
    return client.buildAuthorizationUrlWithPAR(cfg, url.searchParams);
  };
  const now = () => Math.floor(Date.now() / 1000);
  const base4 = withNonceState(await freshRequest(`openid ${readScope}`));

  const otherKey = await jose.generateKeyPair(jwk.alg, { extractable: false });
  await check('refused: request object signed by another key (same kid) -> 400 invalid_request_object (JAR-02, N-12)', () =>
    expectRefusal(() => pushWith(jarm, base4, { key: otherKey.privateKey, kid: jwk.kid }), 400, 'invalid_request_object'));

  await check('refused: request object without exp -> 400 invalid_request_object (F1-05, N-02)', () =>
    expectRefusal(() => pushWith(jarm, base4, roKey, (h, p) => { delete p.exp; }), 400, 'invalid_request_object'));

  await check('refused: request object with nbf 70 minutes ago -> 400 invalid_request_object (F1-06, N-06)', () =>
    expectRefusal(() => pushWith(jarm, base4, roKey, (h, p) => { p.nbf = now() - 70 * 60; }),
                  400, 'invalid_request_object'));

  await check('refused: request object with exp 70 minutes ahead -> 400 invalid_request_object (F1-05, N-05)', () =>
    expectRefusal(() => pushWith(jarm, base4, roKey, (h, p) => { p.exp = now() + 70 * 60; }),
                  400, 'invalid_request_object'));

  await check('refused: request object with a wrong aud -> 400 invalid_request_object (F1-07, N-07)', () =>
    expectRefusal(() => pushWith(jarm, base4, roKey, (h, p) => { p.aud = 'https://attacker.example'; }),
                  400, 'invalid_request_object'));

  await check('refused: request object with the PAR URL as aud -> 400 invalid_request_object (F1-07, N-07)', () =>
    expectRefusal(() => pushWith(jarm, base4, roKey, (h, p) => { p.aud = demo.pushed_authorization_request_endpoint; }),
                  400, 'invalid_request_object'));

  await check('accepted: request object with aud = [issuer, other] (F1-07, N-08)', async () => {
    const url = await pushWith(jarm, base4, roKey, (h, p) => { p.aud = [demo.issuer, 'https://other.example']; });
    assert(url.searchParams.get('request_uri'), 'no request_uri');
  });

  await check('refused: response_type code without JARM for a FAPI 1.0 client -> 400 unsupported_response_type (F1-02, N-17)', () =>
    expectRefusal(() => pushWith(fapi1Config(), base4, roKey), 400, 'unsupported_response_type'));

  // By value at /authorize an invalid request is never redirected (F1-15): the server shows a
  // 400 page naming the error code.
  const authorizePage = async (url) => {
    const res = await browser(url, { redirect: 'manual' });
    const body = await res.text();
    assertEqual(res.status, 400, 'status');
    assertEqual(res.headers.get('location'), null, 'Location');
    const m = /<code>([a-z_]+)<\/code>/.exec(body);
    return m ? m[1] : `(no error code in page: ${body.slice(0, 120)})`;
  };
  await check('refused by value: request object signed by another key -> 400 page invalid_request_object, no redirect', async () => {
    const url = await client.buildAuthorizationUrlWithJAR(jarm, base4, { key: otherKey.privateKey, kid: jwk.kid });
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', base4.scope);
    assertEqual(await authorizePage(url), 'invalid_request_object', 'error code');
  });

  await check('refused by value: a plain authorization request (no request object) -> 400 page invalid_request (F1-01, N-01)', async () => {
    const url = client.buildAuthorizationUrl(jarm, base4);
    assertEqual(await authorizePage(url), 'invalid_request', 'error code');
  });

  // 5. Dynamic client registration (RFC 7591 / RFC 7592) ------------------------------------------
  await registration(demo, mtlsFetch, workDir, issuer);
}

// A fresh client identity: a key and a certificate issued by the demo CA (ARCHITECTURE.md: the
// CA key is in demo.json so tests can mint their own client certificates).
function mintCertificate(demo, workDir, name) {
  const key = path.join(workDir, `${name}.key`);
  const csr = path.join(workDir, `${name}.csr`);
  const cert = path.join(workDir, `${name}.pem`);
  const ext = path.join(workDir, `${name}.ext`);
  fs.writeFileSync(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
          '-keyout', key, '-out', csr, '-subj', `/O=Interop TPP Ltd/OU=TPP/CN=${name}`);
  openssl('x509', '-req', '-in', csr, '-CA', demo.ca_file, '-CAkey', demo.ca_key_file, '-set_serial',
          `0x${createHash('sha256').update(name).digest('hex').slice(0, 16)}`, '-days', '1', '-sha256',
          '-extfile', ext, '-out', cert);
  const dn = openssl('x509', '-in', cert, '-noout', '-subject', '-nameopt', 'RFC2253').trim().replace(/^subject=\s*/, '');
  return { key, cert, dn };
}

async function registration(demo, mtlsFetch, workDir, issuer) {
  const reg = demo.registration;
  const dirJwk = readJwk(reg.software_statement_signing_key_file);
  const dirKey = await jose.importJWK(dirJwk, dirJwk.alg || 'PS256');
  const redirect = 'https://tpp.interop.example/cb';
  const statement = async (key, kid, claims = {}) =>
    new jose.SignJWT({ software_id: 'interop-tpp', software_redirect_uris: [redirect], ...claims })
      .setProtectedHeader({ alg: 'PS256', typ: 'JWT', kid })
      .setIssuer(reg.software_statement_issuer)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);

  let id;
  let tppFetch;
  await check('DCR: a new TPP certificate minted with the demo CA (openssl)', async () => {
    id = mintCertificate(demo, workDir, `dcr-${Date.now().toString(36)}`);
    tppFetch = mtlsFetch(id.cert, id.key);
    return id.dn;
  });
  if (!id) return;
  const metadata = async (overrides = {}) => ({
    software_statement: await statement(dirKey, dirJwk.kid),
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: id.dn,
    grant_types: ['client_credentials', 'authorization_code'],
    redirect_uris: [redirect],
    scope: `${demo.scopes.read} ${demo.scopes.write}`,
    client_name: 'Interop TPP',
    // Tells oauth4webapi to take the registration endpoint from mtls_endpoint_aliases; it also
    // lands in the JSON body, where the server ignores it as unknown metadata (RFC 7591 §2).
    use_mtls_endpoint_aliases: true,
    ...overrides,
  });
  const register = async (meta, initialAccessToken = reg.initial_access_token) =>
    client.dynamicClientRegistration(issuer, meta, client.TlsClientAuth(), {
      initialAccessToken,
      [client.customFetch]: tppFetch,
    });

  let registered;
  await check('DCR: dynamicClientRegistration with the initial access token and a directory-signed software statement -> client_id', async () => {
    const answer = await register(await metadata());
    const m = answer.clientMetadata();
    // The registered metadata (the server's answer) does not carry the library-only
    // use_mtls_endpoint_aliases flag; the client keeps using the mTLS aliases with it set again.
    registered = new client.Configuration(answer.serverMetadata(), m.client_id,
      { ...m, use_mtls_endpoint_aliases: true }, client.TlsClientAuth());
    registered[client.customFetch] = tppFetch;
    assert(typeof m.client_id === 'string' && m.client_id.length >= 16, 'client_id');
    assertEqual(m.token_endpoint_auth_method, 'tls_client_auth', 'token_endpoint_auth_method');
    assertEqual(m.tls_client_auth_subject_dn, id.dn, 'tls_client_auth_subject_dn');
    assertEqual(m.software_id, 'interop-tpp', 'software_id from the statement (RFC 7591 §2.3)');
    assert(typeof m.registration_access_token === 'string', 'registration_access_token');
    assertEqual(m.registration_client_uri, `${reg.registration_endpoint}/${m.client_id}`, 'registration_client_uri');
    return `client_id ${m.client_id}`;
  });

  await check('DCR: the new client gets a certificate-bound token by client_credentials over mTLS (clientCredentialsGrant)', async () => {
    const t = await client.clientCredentialsGrant(need(registered, 'registration'), { scope: demo.scopes.read });
    const at = jose.decodeJwt(t.access_token);
    assertEqual(at.client_id, registered.clientMetadata().client_id, 'client_id');
    assertEqual(at.cnf?.['x5t#S256'], certThumbprint(id.cert), 'cnf.x5t#S256');
    const [method, p] = demo.resources.accounts.split(' ');
    const res = await client.fetchProtectedResource(registered, t.access_token, new URL(p, demo.gateway_url), method);
    await res.text();
    assertEqual(res.status, 200, 'gateway status');
  });

  // RFC 7592: openid-client has no client-configuration functions, so plain fetch (with the
  // client's certificate: the endpoint is on the mTLS listener).
  const manage = (method, token, body) =>
    tppFetch(need(registered, 'registration').clientMetadata().registration_client_uri, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  let current;
  await check('RFC 7592 §2.1: GET registration_client_uri with the registration access token -> 200, the metadata', async () => {
    const m = registered.clientMetadata();
    const res = await manage('GET', need(m.registration_access_token, 'registration access token'));
    const body = await res.json();
    assertEqual(res.status, 200, 'status');
    assertEqual(body.client_id, m.client_id, 'client_id');
    assertEqual(body.client_name, 'Interop TPP', 'client_name');
    current = body;
  });

  let rotated;
  await check('RFC 7592 §2.2: PUT replaces the metadata and rotates the registration access token', async () => {
    const oldToken = registered.clientMetadata().registration_access_token;
    const body = { ...need(current, 'GET result'), client_name: 'Interop TPP (renamed)',
                   software_statement: await statement(dirKey, dirJwk.kid) };
    for (const k of ['registration_access_token', 'registration_client_uri', 'client_id_issued_at', 'client_secret_expires_at']) delete body[k];
    const res = await manage('PUT', oldToken, body);
    const updated = await res.json();
    assertEqual(res.status, 200, `status (${JSON.stringify(updated).slice(0, 200)})`);
    assertEqual(updated.client_name, 'Interop TPP (renamed)', 'client_name');
    assert(updated.registration_access_token && updated.registration_access_token !== oldToken, 'token not rotated');
    rotated = updated.registration_access_token;
    const stale = await manage('GET', oldToken);
    await stale.text();
    assertEqual(stale.status, 401, 'the old registration access token');
  });

  await check('RFC 7592 §2.3: DELETE -> 204; afterwards the client cannot get tokens (401 invalid_client)', async () => {
    const res = await manage('DELETE', need(rotated, 'rotated token'));
    await res.text();
    assertEqual(res.status, 204, 'status');
    const gone = await manage('GET', rotated);
    await gone.text();
    assertEqual(gone.status, 401, 'GET after delete');
    return expectRefusal(() => client.clientCredentialsGrant(registered, { scope: demo.scopes.read }), 401, 'invalid_client');
  });

  // Encrypted ID tokens (OIDC Core §10.2, FAPI 1.0 Part 2 §5.2.2.1-3, F1-13): a client that
  // registers id_token_encrypted_response_alg/_enc with an RSA encryption key in its jwks runs
  // the FAPI 2.0 code flow; openid-client decrypts the ID token (enableDecryptingResponses)
  // and then verifies it as usual.
  const encKeys = await jose.generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true });
  const encJwk = { ...(await jose.exportJWK(encKeys.publicKey)), kid: 'interop-enc', use: 'enc', alg: 'RSA-OAEP-256' };
  let encrypting;
  await check('DCR: a client registers id_token_encrypted_response_alg RSA-OAEP-256 / _enc A256GCM with an RSA encryption key (F1-13)', async () => {
    const answer = await register(await metadata({
      scope: `openid ${demo.scopes.read}`,
      jwks: { keys: [encJwk] },
      id_token_encrypted_response_alg: 'RSA-OAEP-256',
      id_token_encrypted_response_enc: 'A256GCM',
    }));
    const m = answer.clientMetadata();
    assertEqual(m.id_token_encrypted_response_alg, 'RSA-OAEP-256', 'id_token_encrypted_response_alg');
    assertEqual(m.id_token_encrypted_response_enc, 'A256GCM', 'id_token_encrypted_response_enc');
    assert(answer.serverMetadata().id_token_encryption_enc_values_supported?.includes('A256GCM'),
           'discovery does not list A256GCM');
    encrypting = new client.Configuration(answer.serverMetadata(), m.client_id,
      { ...m, use_mtls_endpoint_aliases: true }, client.TlsClientAuth());
    encrypting[client.customFetch] = tppFetch;
    client.enableDecryptingResponses(encrypting, ['A256GCM'], { key: encKeys.privateKey, kid: 'interop-enc' });
    return `client_id ${m.client_id}`;
  });

  await check('encrypted ID token: PAR, login and consent forms, code exchange; openid-client decrypts and verifies the ID token', async () => {
    const cfg = need(encrypting, 'encrypting client');
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const parUrl = await client.buildAuthorizationUrlWithPAR(cfg, {
      redirect_uri: redirect, scope: `openid ${demo.scopes.read}`, state, nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const { location } = await browserAuthorize(mtlsFetch(), parUrl, demo.user);
    // The raw token response, to see what travelled: a five-part JWE, not a readable JWT.
    let rawIdToken;
    cfg[client.customFetch] = async (url, options) => {
      const res = await tppFetch(url, options);
      if (new URL(url).pathname.endsWith('/token')) {
        rawIdToken = (await res.clone().json()).id_token;
      }
      return res;
    };
    const tokens = await client.authorizationCodeGrant(cfg, location, {
      pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
    });
    cfg[client.customFetch] = tppFetch;
    assertEqual(String(rawIdToken).split('.').length, 5, 'parts of the id_token on the wire');
    const header = jose.decodeProtectedHeader(rawIdToken);
    assertEqual(header.alg, 'RSA-OAEP-256', 'JWE alg');
    assertEqual(header.enc, 'A256GCM', 'JWE enc');
    assertEqual(header.kid, 'interop-enc', 'JWE kid');
    assertEqual(header.cty, 'JWT', 'JWE cty');
    const claims = tokens.claims();
    assertEqual(claims.aud, cfg.clientMetadata().client_id, 'aud');
    assertEqual(claims.nonce, nonce, 'nonce');
    assertEqual(claims.at_hash, leftHalfHash(tokens.access_token), 'at_hash');
    return `JWE ${header.alg}/${header.enc}, ${rawIdToken.length} bytes; ID token for ${claims.sub}`;
  });

  await check('DCR refused: id_token_encrypted_response_alg RSA1_5 -> 400 invalid_client_metadata (FAPI 1.0 Part 2 §8.6.1)', async () =>
    expectRefusal(async () => register(await metadata({
      jwks: { keys: [{ ...encJwk, alg: 'RSA1_5' }] }, id_token_encrypted_response_alg: 'RSA1_5',
    })), 400, 'invalid_client_metadata'));

  // Refusals, each with the RFC 7591 §3.2.2 (or RFC 6750 §3.1) code the server returns.
  await check('DCR refused: no initial access token -> 401 invalid_token (RFC 6750 §3.1)', async () =>
    expectRefusal(async () => register(await metadata(), null), 401, 'invalid_token'));

  await check('DCR refused: an http:// redirect URI -> 400 invalid_redirect_uri (F2-21, RFC 7591 §3.2.2)', async () => {
    const http = 'http://tpp.interop.example/cb';
    // The statement allows it, so the refusal is the https rule and not the statement binding.
    const meta = await metadata({
      redirect_uris: [http],
      software_statement: await statement(dirKey, dirJwk.kid, { software_redirect_uris: [http] }),
    });
    return expectRefusal(() => register(meta), 400, 'invalid_redirect_uri');
  });

  const wrongKey = (await jose.generateKeyPair('PS256', { modulusLength: 2048 })).privateKey;
  await check('DCR refused: software statement signed by a wrong key with the directory kid -> 400 invalid_software_statement (RFC 7591 §3.2.2)', async () =>
    expectRefusal(async () => register(await metadata({ software_statement: await statement(wrongKey, dirJwk.kid) })),
                  400, 'invalid_software_statement'));

  await check('DCR refused: software statement signed by an unknown key -> 400 unapproved_software_statement (RFC 7591 §3.2.2)', async () =>
    expectRefusal(async () => register(await metadata({ software_statement: await statement(wrongKey, 'rogue-directory-key') })),
                  400, 'unapproved_software_statement'));
}
