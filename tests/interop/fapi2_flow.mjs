// The FAPI 2.0 Security Profile code flow against `fapigate demo`, driven by the npm library
// oauth4webapi (v3) as a relying party would use it, with the demo's `fapi2-partner`
// (private_key_jwt, ES256 key; the TLS client certificate only sender-constrains, RFC 8705 §3).
// What it proves, each step by the library's own validation and not by hand-written protocol code:
//   1. discovery (OIDC Discovery / RFC 8414) is accepted and advertises PAR, private_key_jwt and
//      certificate-bound tokens; the library picks the mtls_endpoint_aliases (RFC 8705 §5);
//   2. PAR (RFC 9126) with a private_key_jwt assertion (aud = issuer, FAPI 2.0 SP §5.3.2.1-8),
//      PKCE S256, openid + nonce + state, over mTLS: 201, request_uri, short expires_in;
//   3. the browser leg with only client_id + request_uri (F2-17), login and consent pages; the
//      303 back carries code, state and iss, which validateAuthResponse checks (RFC 9207, F2-20);
//   4. the code exchange: processAuthorizationCodeResponse validates the ID token (iss, aud, exp,
//      nonce); its PS256 signature verifies against the AS jwks_uri (oauth4webapi and npm jose);
//      at_hash matches the access token (OIDC Core §3.1.3.6);
//   5. the access token is bound to the partner certificate (cnf.x5t#S256, RFC 8705 §3.1): the
//      gateway serves it with that certificate (200) and refuses another partner's (401
//      invalid_token, RFC 6750 §3);
//   6. refusals: a reused code (and the reuse revokes the first grant, RFC 6749 §4.1.2), a wrong
//      code_verifier, a reused request_uri, PAR without PKCE, a code redeemed with another
//      certificate than the one presented at PAR;
//   7. refresh: a new bound access token, the same refresh token, still usable (no rotation,
//      FAPI 2.0 SP §5.3.2.1-9, F2-11); another certificate cannot use it;
//   8. introspection (RFC 7662) as JSON and as a signed JWT (RFC 9701), showing the binding; a
//      client that neither owns the token nor serves its audience learns nothing (N-102);
//   9. revocation (RFC 7009) of the access and refresh tokens; afterwards introspection says
//      active:false and the refresh token gets invalid_grant.
// Usage: node fapi2_flow.mjs /path/to/fapigate   (from tests/interop, after npm ci)
// Prints one PASS/FAIL line per check and a summary; exits 1 if any check fails.
import fs from 'node:fs';

import {
  assert, assertEqual, binaryArgument, browserAuthorize, certThumbprint, check, importPackages,
  leftHalfHash, record, startDemo, summary,
} from './lib/harness.mjs';

const [oauth, jose] = await importPackages('fapi2_flow', ['oauth4webapi', 'jose']);
const binary = binaryArgument('fapi2_flow.mjs');

// Awaits a promise that must reject with an OAuth error response (oauth4webapi ResponseBodyError)
// carrying this HTTP status and error code; returns the error_description for the PASS line.
async function expectOAuthError(promise, status, error, what) {
  let result;
  try {
    result = await promise;
  } catch (e) {
    if (!(e instanceof oauth.ResponseBodyError)) {
      throw new Error(`${what}: expected ResponseBodyError ${error}, got ${e && e.name}: ${e && e.message}`);
    }
    assertEqual(e.status, status, `${what}: HTTP status`);
    assertEqual(e.error, error, `${what}: error code`);
    return `${e.status} ${e.error}: ${e.error_description || ''}`;
  }
  throw new Error(`${what}: expected ${status} ${error}, but it succeeded: ${JSON.stringify(result)}`);
}

let env;
try {
  env = await startDemo(binary);
} catch (e) {
  record('fapigate demo starts', false, e.message);
  process.exit(summary('fapi2_oauth4webapi_interop'));
}
const { demo } = env;
try {
  const partner = demo.fapi2_partner;
  assert(partner && partner.client_id && partner.cert_file && partner.jwks_private_file,
         'demo.json has no fapi2_partner');
  const redirectUri = partner.redirect_uri;

  // Transports: every request the library makes goes through one of these (undici Agents that
  // trust the demo CA). `sent` records the URLs so a check can see which endpoint was used.
  const sent = [];
  const logged = (f) => (url, init) => {
    sent.push({ url: String(url), method: (init && init.method) || 'GET' });
    return f(url, init);
  };
  const browserFetch = env.mtlsFetch(null, null);       // the customer's browser: no certificate
  const noCertFetch = logged(browserFetch);            // discovery, JWKS
  const certFetch = logged(env.mtlsFetch(partner.cert_file, partner.key_file));
  const otherFetch = logged(env.mtlsFetch(demo.partner.cert_file, demo.partner.key_file));
  const viaCert = { [oauth.customFetch]: certFetch };
  const viaOther = { [oauth.customFetch]: otherFetch };
  const partnerThumb = certThumbprint(partner.cert_file);
  const otherThumb = certThumbprint(demo.partner.cert_file);

  // The client's private key for private_key_jwt: a private JWK (or a set holding one).
  const keyFile = JSON.parse(fs.readFileSync(partner.jwks_private_file, 'utf8'));
  const privateJwk = Array.isArray(keyFile.keys) ? keyFile.keys.find((k) => k.d) : keyFile;
  assert(privateJwk && privateJwk.d && privateJwk.kid, `no private JWK with kid in ${partner.jwks_private_file}`);
  const privateKey = await jose.importJWK(privateJwk, privateJwk.alg || 'ES256');
  const clientAuth = oauth.PrivateKeyJwt({ key: privateKey, kid: privateJwk.kid });
  // The same method with the assertion changed just before it is signed (header, payload).
  const assertionWith = (modify) =>
    oauth.PrivateKeyJwt({ key: privateKey, kid: privateJwk.kid }, { [oauth.modifyAssertion]: modify });

  // use_mtls_endpoint_aliases: token, PAR, introspection and revocation go to the aliases (port
  // N+1), where the certificate is presented; the certificate binds, the assertion authenticates.
  const client = { client_id: partner.client_id, use_mtls_endpoint_aliases: true };
  let as;

  // One pushed request with the defaults below, overridable per call (null drops a parameter).
  async function pushRequest(overrides = {}, { fetchOpts = viaCert, auth = clientAuth } = {}) {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const params = {
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: `openid ${demo.scopes.read} ${demo.scopes.write}`,
      state,
      nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      ...overrides,
    };
    for (const k of Object.keys(params)) if (params[k] === null) delete params[k];
    const response = await oauth.pushedAuthorizationRequest(as, client, auth, params, fetchOpts);
    return { response, codeVerifier, state, nonce };
  }

  function authorizationUrl(requestUri) {
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('request_uri', requestUri);
    return url;
  }

  // PAR, login, consent; resolves to the validated callback parameters and the flow's secrets.
  async function authorizedFlow() {
    const flow = await pushRequest();
    const par = await oauth.processPushedAuthorizationResponse(as, client, flow.response);
    const { location } = await browserAuthorize(browserFetch, authorizationUrl(par.request_uri), demo.user);
    assert(location, 'the authorization did not end in a redirect');
    const callback = oauth.validateAuthResponse(as, client, location, flow.state);
    return { ...flow, requestUri: par.request_uri, location, callback };
  }

  // ---- 1. discovery --------------------------------------------------------------------------
  await check('discovery: metadata accepted; PAR, private_key_jwt, bound tokens, mTLS aliases', async () => {
    const issuer = new URL(demo.issuer);
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', [oauth.customFetch]: noCertFetch });
    as = await oauth.processDiscoveryResponse(issuer, response);
    assertEqual(as.issuer, demo.issuer, 'issuer');
    assert(as.pushed_authorization_request_endpoint, 'no pushed_authorization_request_endpoint');
    assert(as.token_endpoint_auth_methods_supported?.includes('private_key_jwt'),
           `token_endpoint_auth_methods_supported lacks private_key_jwt: ${as.token_endpoint_auth_methods_supported}`);
    assertEqual(as.tls_client_certificate_bound_access_tokens, true, 'tls_client_certificate_bound_access_tokens');
    assert(as.code_challenge_methods_supported?.includes('S256'), 'S256 not in code_challenge_methods_supported');
    assertEqual(as.authorization_response_iss_parameter_supported, true, 'authorization_response_iss_parameter_supported');
    const aliases = as.mtls_endpoint_aliases || {};
    assertEqual(aliases.pushed_authorization_request_endpoint, demo.pushed_authorization_request_endpoint,
                'mtls_endpoint_aliases.pushed_authorization_request_endpoint');
    assertEqual(aliases.token_endpoint, demo.token_endpoint, 'mtls_endpoint_aliases.token_endpoint');
    assertEqual(aliases.introspection_endpoint, demo.introspection_endpoint, 'mtls_endpoint_aliases.introspection_endpoint');
    assert(aliases.revocation_endpoint, 'no mtls_endpoint_aliases.revocation_endpoint');
    return `issuer ${as.issuer}, token alias ${aliases.token_endpoint}`;
  });
  if (!as) throw new Error('discovery failed; nothing else can run');

  // ---- 2. PAR --------------------------------------------------------------------------------
  let flow;
  await check('PAR: private_key_jwt + PKCE S256 + openid/nonce/state over mTLS -> 201 request_uri', async () => {
    const before = sent.length;
    flow = await pushRequest();
    assertEqual(flow.response.status, 201, 'PAR status');
    const par = await oauth.processPushedAuthorizationResponse(as, client, flow.response);
    assert(par.request_uri.startsWith('urn:ietf:params:oauth:request_uri:'), `request_uri ${par.request_uri}`);
    // RFC 9126 §2.2 suggests 5 to 600 s; FAPI 2.0 SP §5.3.2.2-5 wants less than 600.
    assert(par.expires_in > 0 && par.expires_in < 600, `expires_in ${par.expires_in}`);
    const call = sent.slice(before).find((s) => s.method === 'POST');
    assertEqual(call && call.url, as.mtls_endpoint_aliases.pushed_authorization_request_endpoint,
                'PAR sent to the mTLS alias');
    flow.requestUri = par.request_uri;
    return `expires_in ${par.expires_in}`;
  });

  // ---- 3. browser leg ------------------------------------------------------------------------
  await check('authorize: client_id + request_uri only; login + consent; 303 back with code, state, iss', async () => {
    assert(flow && flow.requestUri, 'no request_uri from PAR');
    const { location } = await browserAuthorize(browserFetch, authorizationUrl(flow.requestUri), demo.user);
    assert(location, 'the authorization did not end in a redirect to the client');
    assertEqual(`${location.origin}${location.pathname}`, redirectUri, 'redirect target');
    assertEqual(location.searchParams.get('iss'), demo.issuer, 'iss (RFC 9207)');
    // Checks iss against the discovered issuer and state against ours; refuses error responses.
    flow.callback = oauth.validateAuthResponse(as, client, location, flow.state);
    assert(flow.callback.get('code'), 'no code');
    // ...and it does refuse a tampered iss or state (the checks above are real).
    const forged = new URL(location);
    forged.searchParams.set('iss', 'https://attacker.example');
    let refused = false;
    try {
      oauth.validateAuthResponse(as, client, forged, flow.state);
    } catch {
      refused = true;
    }
    assert(refused, 'validateAuthResponse accepted a foreign iss');
    return `code ${flow.callback.get('code').length} chars`;
  });

  // ---- 4. code exchange ----------------------------------------------------------------------
  let tokens;
  let idClaims;
  await check('token: code + PKCE over mTLS -> bound AT, RT, ID token (nonce, iss, aud, PS256, at_hash)', async () => {
    assert(flow && flow.callback, 'no authorization response');
    const before = sent.length;
    const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, flow.callback, redirectUri,
                                                               flow.codeVerifier, viaCert);
    assertEqual(response.status, 200, 'token status');
    assertEqual(sent[sent.length - 1].url, as.mtls_endpoint_aliases.token_endpoint, 'token request sent to the mTLS alias');
    assert(sent.length > before, 'no request recorded');
    tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: flow.nonce,
      requireIdToken: true,
    });
    assertEqual(tokens.token_type, 'bearer', 'token_type');
    assert(tokens.refresh_token, 'no refresh_token');
    assert(tokens.scope.split(' ').includes(demo.scopes.write), `scope ${tokens.scope}`);
    idClaims = oauth.getValidatedIdTokenClaims(tokens);
    assertEqual(idClaims.nonce, flow.nonce, 'ID token nonce');
    assertEqual(idClaims.sub, demo.user.username, 'ID token sub');
    // The signature, by the library against the discovered jwks_uri...
    await oauth.validateApplicationLevelSignature(as, response, { [oauth.customFetch]: noCertFetch });
    // ...and independently by npm jose, with the algorithm pinned.
    const jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri), { [jose.customFetch]: noCertFetch });
    const { payload, protectedHeader } = await jose.jwtVerify(tokens.id_token, jwks, {
      issuer: demo.issuer,
      audience: client.client_id,
      algorithms: ['PS256'],
    });
    assertEqual(protectedHeader.alg, 'PS256', 'ID token alg');
    assert(as.id_token_signing_alg_values_supported.includes(protectedHeader.alg), 'alg not advertised');
    assertEqual(payload.at_hash, leftHalfHash(tokens.access_token), 'at_hash');
    assert(typeof payload.auth_time === 'number', 'auth_time missing');
    return `sub ${idClaims.sub}, kid ${protectedHeader.kid}`;
  });

  // ---- 5. certificate-bound access token at the gateway ----------------------------------------
  const [payMethod, payPath] = demo.resources.payments.split(' ');
  const paymentUrl = new URL(payPath, demo.gateway_url);
  const paymentBody = JSON.stringify({ instructed_amount: { amount: '10.00', currency: 'EUR' } });
  await check('access token: RFC 9068 JWT, cnf.x5t#S256 = fapi2-partner certificate thumbprint', async () => {
    assert(tokens, 'no tokens');
    const jwks = jose.createRemoteJWKSet(new URL(as.jwks_uri), { [jose.customFetch]: noCertFetch });
    const { payload } = await jose.jwtVerify(tokens.access_token, jwks, {
      issuer: demo.issuer,
      audience: demo.gateway_url,
      typ: 'at+jwt',
      algorithms: ['PS256'],
    });
    assertEqual(payload.cnf && payload.cnf['x5t#S256'], partnerThumb, 'cnf.x5t#S256');
    assertEqual(payload.client_id, client.client_id, 'client_id claim');
    assertEqual(payload.sub, demo.user.username, 'sub claim');
    return `x5t#S256 ${partnerThumb.slice(0, 12)}...`;
  });

  await check(`gateway: ${payMethod} ${payPath} with the bound certificate -> 200`, async () => {
    assert(tokens, 'no tokens');
    const response = await oauth.protectedResourceRequest(tokens.access_token, payMethod, paymentUrl,
      new Headers({ 'content-type': 'application/json' }), paymentBody, viaCert);
    const text = await response.text();
    assertEqual(response.status, 200, `payment status (${text.slice(0, 200)})`);
    const body = JSON.parse(text);
    assert(body.payment_id, `no payment_id in ${text.slice(0, 200)}`);
    return body.payment_id;
  });

  await check('gateway: the same token with another partner\'s certificate -> 401 invalid_token', async () => {
    assert(tokens, 'no tokens');
    assert(otherThumb !== partnerThumb, 'the two partners share a certificate');
    let response;
    let challenges;
    try {
      response = await oauth.protectedResourceRequest(tokens.access_token, payMethod, paymentUrl,
        new Headers({ 'content-type': 'application/json' }), paymentBody, viaOther);
    } catch (e) {
      if (!(e instanceof oauth.WWWAuthenticateChallengeError)) throw e;
      response = e.response;
      challenges = e.cause;
    }
    assertEqual(response.status, 401, 'status');
    assert(challenges, `no WWW-Authenticate challenge: ${response.headers.get('www-authenticate')}`);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    assertEqual(bearer && bearer.parameters.error, 'invalid_token', 'Bearer error');
    return response.headers.get('www-authenticate');
  });

  // ---- 6. refusals ---------------------------------------------------------------------------
  await check('code reuse: second redemption -> 400 invalid_grant, and the first grant is revoked', async () => {
    const f = await authorizedFlow();
    const first = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, f.callback, redirectUri, f.codeVerifier, viaCert),
      { expectedNonce: f.nonce, requireIdToken: true });
    const detail = await expectOAuthError(
      oauth.authorizationCodeGrantRequest(as, client, clientAuth, f.callback, redirectUri, f.codeVerifier, viaCert)
        .then((r) => oauth.processAuthorizationCodeResponse(as, client, r, { expectedNonce: f.nonce })),
      400, 'invalid_grant', 'reused code');
    // RFC 6749 §4.1.2: what the first redemption issued is revoked.
    const info = await oauth.processIntrospectionResponse(as, client,
      await oauth.introspectionRequest(as, client, clientAuth, first.access_token, viaCert));
    assertEqual(info.active, false, 'access token of the replayed code still active');
    await expectOAuthError(
      oauth.refreshTokenGrantRequest(as, client, clientAuth, first.refresh_token, viaCert)
        .then((r) => oauth.processRefreshTokenResponse(as, client, r)),
      400, 'invalid_grant', 'refresh token of the replayed code');
    return detail;
  });

  await check('wrong code_verifier -> 400 invalid_grant', async () => {
    const f = await authorizedFlow();
    return expectOAuthError(
      oauth.authorizationCodeGrantRequest(as, client, clientAuth, f.callback, redirectUri,
                                          oauth.generateRandomCodeVerifier(), viaCert)
        .then((r) => oauth.processAuthorizationCodeResponse(as, client, r, { expectedNonce: f.nonce })),
      400, 'invalid_grant', 'wrong verifier');
  });

  await check('reused request_uri at /authorize -> 400 error page (invalid_request_uri), no redirect', async () => {
    assert(flow && flow.requestUri, 'no used request_uri');
    const response = await browserFetch(authorizationUrl(flow.requestUri), { redirect: 'manual' });
    const body = await response.text();
    assertEqual(response.status, 400, 'status');
    assertEqual(response.headers.get('location'), null, 'Location header');
    assert((response.headers.get('content-type') || '').startsWith('text/html'), 'not an HTML page');
    assert(body.includes('invalid_request_uri'), `page does not name invalid_request_uri: ${body.slice(0, 200)}`);
    return 'error page';
  });

  await check('PAR without code_challenge -> 400 invalid_request', async () => {
    const f = await pushRequest({ code_challenge: null, code_challenge_method: null });
    return expectOAuthError(oauth.processPushedAuthorizationResponse(as, client, f.response),
                            400, 'invalid_request', 'PAR without PKCE');
  });

  await check('code bound at PAR to the fapi2-partner certificate, redeemed with another -> invalid_grant', async () => {
    const f = await authorizedFlow();
    return expectOAuthError(
      oauth.authorizationCodeGrantRequest(as, client, clientAuth, f.callback, redirectUri, f.codeVerifier, viaOther)
        .then((r) => oauth.processAuthorizationCodeResponse(as, client, r, { expectedNonce: f.nonce })),
      400, 'invalid_grant', 'code with another certificate');
  });

  await check('token request without a certificate (front endpoint) -> 400 invalid_request; code not spent (F2-07)', async () => {
    const f = await authorizedFlow();
    // A client that ignores the mTLS aliases reaches the front token endpoint without a
    // certificate: the assertion authenticates it, but there is nothing to bind the tokens to.
    const plain = { client_id: client.client_id };
    const detail = await expectOAuthError(
      oauth.authorizationCodeGrantRequest(as, plain, clientAuth, f.callback, redirectUri, f.codeVerifier,
                                          { [oauth.customFetch]: noCertFetch })
        .then((r) => oauth.processAuthorizationCodeResponse(as, plain, r, { expectedNonce: f.nonce })),
      400, 'invalid_request', 'token request without certificate');
    assertEqual(sent[sent.length - 1].url, as.token_endpoint, 'sent to the front token endpoint');
    // Refused before the code was redeemed: the same code still works over the alias.
    const ok = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, f.callback, redirectUri, f.codeVerifier, viaCert),
      { expectedNonce: f.nonce, requireIdToken: true });
    assertEqual(jose.decodeJwt(ok.access_token).cnf?.['x5t#S256'], partnerThumb, 'cnf.x5t#S256');
    return detail;
  });

  await check('PAR without client authentication -> 401 invalid_client (F2-17)', async () => {
    const f = await pushRequest({}, { auth: oauth.None() });
    return expectOAuthError(oauth.processPushedAuthorizationResponse(as, client, f.response),
                            401, 'invalid_client', 'PAR without client_assertion');
  });

  await check('client assertion aud not the issuer as a string -> 401 invalid_client (F2-10)', async () => {
    const variants = {
      'aud [issuer]': [as.issuer],
      'aud = PAR URL': as.mtls_endpoint_aliases.pushed_authorization_request_endpoint,
      'aud = token URL': as.mtls_endpoint_aliases.token_endpoint,
    };
    for (const [what, aud] of Object.entries(variants)) {
      const f = await pushRequest({}, { auth: assertionWith((_h, payload) => { payload.aud = aud; }) });
      await expectOAuthError(oauth.processPushedAuthorizationResponse(as, client, f.response),
                             401, 'invalid_client', what);
    }
    return Object.keys(variants).join(', ');
  });

  await check('client assertion replayed (same jti) -> 401 invalid_client (RFC 7523 §3)', async () => {
    const jti = oauth.generateRandomState();
    const fixed = assertionWith((_h, payload) => { payload.jti = jti; });
    const first = await pushRequest({}, { auth: fixed });
    await oauth.processPushedAuthorizationResponse(as, client, first.response);
    const second = await pushRequest({}, { auth: fixed });
    return expectOAuthError(oauth.processPushedAuthorizationResponse(as, client, second.response),
                            401, 'invalid_client', 'replayed assertion');
  });

  await check('client assertion iat/nbf 8 s ahead accepted, 61 s ahead refused (F2-14)', async () => {
    const ahead = (seconds) => assertionWith((_h, payload) => {
      const now = Math.floor(Date.now() / 1000);
      payload.iat = payload.nbf = now + seconds;
      payload.exp = now + seconds + 60;
    });
    const near = await pushRequest({}, { auth: ahead(8) });
    await oauth.processPushedAuthorizationResponse(as, client, near.response);
    const far = await pushRequest({}, { auth: ahead(61) });
    return expectOAuthError(oauth.processPushedAuthorizationResponse(as, client, far.response),
                            401, 'invalid_client', 'assertion 61 s in the future');
  });

  // ---- 7. refresh ----------------------------------------------------------------------------
  let refreshed;
  await check('refresh: new bound access token, same refresh token (no rotation, F2-11)', async () => {
    assert(tokens, 'no tokens');
    const r1 = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, viaCert));
    assert(r1.access_token && r1.access_token !== tokens.access_token, 'no new access token');
    assertEqual(jose.decodeJwt(r1.access_token).cnf?.['x5t#S256'], partnerThumb, 'refreshed cnf.x5t#S256');
    // F2-11: the same refresh token comes back (or none), and the old one still works.
    assert(r1.refresh_token === undefined || r1.refresh_token === tokens.refresh_token,
           'the refresh token was rotated');
    const r2 = await oauth.processRefreshTokenResponse(as, client,
      await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, viaCert));
    assert(r2.access_token && r2.access_token !== r1.access_token, 'second refresh gave no new access token');
    if (r1.id_token) {
      assertEqual(oauth.getValidatedIdTokenClaims(r1).sub, idClaims.sub, 'refreshed ID token sub');
    }
    refreshed = r2;
    return `refresh_token ${r1.refresh_token === undefined ? 'omitted' : 'unchanged'}`;
  });

  await check('refresh with another partner\'s certificate -> 400 invalid_grant', async () => {
    assert(tokens, 'no tokens');
    return expectOAuthError(
      oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, viaOther)
        .then((r) => oauth.processRefreshTokenResponse(as, client, r)),
      400, 'invalid_grant', 'refresh with another certificate');
  });

  // ---- 8. introspection ----------------------------------------------------------------------
  await check('introspection (RFC 7662) by the owning client: active, client_id, cnf.x5t#S256', async () => {
    assert(tokens, 'no tokens');
    const info = await oauth.processIntrospectionResponse(as, client,
      await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, {
        ...viaCert,
        additionalParameters: { token_type_hint: 'access_token' },
      }));
    assertEqual(sent[sent.length - 1].url, as.mtls_endpoint_aliases.introspection_endpoint, 'sent to the mTLS alias');
    assertEqual(info.active, true, 'active');
    assertEqual(info.client_id, client.client_id, 'client_id');
    assertEqual(info.cnf?.['x5t#S256'], partnerThumb, 'cnf.x5t#S256');
    assertEqual(info.sub, demo.user.username, 'sub');
    assert(info.scope.split(' ').includes(demo.scopes.write), `scope ${info.scope}`);
    return `scope ${info.scope}`;
  });

  await check('introspection as a signed JWT (RFC 9701): typ, iss, aud checked by the library; signature verified', async () => {
    assert(tokens, 'no tokens');
    const response = await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, {
      ...viaCert,
      requestJwtResponse: true,
    });
    assertEqual(response.headers.get('content-type'), 'application/token-introspection+jwt', 'content-type');
    const info = await oauth.processIntrospectionResponse(as, client, response);
    await oauth.validateApplicationLevelSignature(as, response, { [oauth.customFetch]: noCertFetch });
    assertEqual(info.active, true, 'active');
    assertEqual(info.cnf?.['x5t#S256'], partnerThumb, 'cnf.x5t#S256');
    return 'signed answer verified';
  });

  await check('introspection by a client that does not own the token -> active:false (N-102)', async () => {
    assert(tokens, 'no tokens');
    // partner-client: tls_client_auth with its own certificate; not a resource server in the demo.
    const other = { client_id: demo.partner.client_id, use_mtls_endpoint_aliases: true };
    const info = await oauth.processIntrospectionResponse(as, other,
      await oauth.introspectionRequest(as, other, oauth.TlsClientAuth(), tokens.access_token, viaOther));
    assertEqual(info.active, false, 'active');
    assertEqual(Object.keys(info).length, 1, `extra members: ${JSON.stringify(info)}`);
    return '{"active":false}';
  });

  // ---- 9. revocation -------------------------------------------------------------------------
  const introspect = async (token) => oauth.processIntrospectionResponse(as, client,
    await oauth.introspectionRequest(as, client, clientAuth, token, viaCert));
  await check('revocation (RFC 7009) of the access token: 200; introspection active:false; RT unaffected', async () => {
    assert(tokens, 'no tokens');
    const response = await oauth.revocationRequest(as, client, clientAuth, tokens.access_token, {
      ...viaCert,
      additionalParameters: { token_type_hint: 'access_token' },
    });
    assertEqual(response.status, 200, 'status');
    assertEqual(sent[sent.length - 1].url, as.mtls_endpoint_aliases.revocation_endpoint, 'sent to the mTLS alias');
    await oauth.processRevocationResponse(response);
    assertEqual((await introspect(tokens.access_token)).active, false, 'revoked access token active');
    assertEqual((await introspect(tokens.refresh_token)).active, true, 'refresh token active');
    return 'access token inactive';
  });

  await check('revocation of the refresh token: its grant\'s tokens inactive, refresh -> invalid_grant', async () => {
    assert(tokens && refreshed, 'no refreshed tokens');
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, clientAuth, tokens.refresh_token, {
        ...viaCert,
        additionalParameters: { token_type_hint: 'refresh_token' },
      }));
    assertEqual((await introspect(tokens.refresh_token)).active, false, 'revoked refresh token active');
    // RFC 7009 §2.1: the access tokens of the same grant go with it.
    assertEqual((await introspect(refreshed.access_token)).active, false, 'access token of the grant active');
    return expectOAuthError(
      oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, viaCert)
        .then((r) => oauth.processRefreshTokenResponse(as, client, r)),
      400, 'invalid_grant', 'refresh after revocation');
  });

} catch (e) {
  record('fapi2 flow aborted', false, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e));
} finally {
  const code = await env.stop();
  // 0 is a clean SIGTERM shutdown (the store closed); a sanitizer report or a hang is not.
  if (code !== 0) record('demo stopped cleanly on SIGTERM', false, `exit ${code}; log in ${env.dir}/demo.log`);
}
process.exit(summary('fapi2_oauth4webapi_interop'));
