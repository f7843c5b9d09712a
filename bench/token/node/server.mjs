// Bench-only comparison point for bench/token/run: npm oidc-provider (panva) configured as close
// to fapigate's token endpoint as it allows: client_credentials, tls_client_auth (subject DN),
// certificate-bound access tokens (cnf.x5t#S256, RFC 8705), RFC 9068 JWT access tokens signed
// with ALG (PS256 or ES256) for one resource server, HTTPS with a required client certificate
// on keep-alive connections. Its default in-memory adapter is used: unlike fapigate it writes
// nothing durable per token (JWT-format access tokens are not stored at all).
//
//   node server.mjs --port P --alg PS256|ES256 --pki DIR --issuer URL --audience URL
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    alg: { type: 'string', default: 'ES256' },
    pki: { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
    client: { type: 'string', default: 'partner-client' },
    dn: { type: 'string', default: 'CN=partner-client,OU=TPP,O=Partner Payments Ltd' },
  },
});
const alg = args.alg;
if (alg !== 'PS256' && alg !== 'ES256') throw new Error(`unsupported alg ${alg}`);

const { privateKey } = alg === 'PS256'
  ? generateKeyPairSync('rsa', { modulusLength: 2048 })
  : generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg, kid: 'bench' };

// RFC 4514 string of a Node subject ("CN=x\nOU=y\nO=z", least significant last) in the
// "CN=...,OU=...,O=..." order the client is registered with.
function subjectDn(cert) {
  return cert.subject.split('\n').reverse().join(',');
}

const provider = new Provider(args.issuer, {
  jwks: { keys: [jwk] },
  clients: [{
    client_id: args.client,
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: args.dn,
    tls_client_certificate_bound_access_tokens: true,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'accounts payments',
  }],
  scopes: ['accounts', 'payments'],
  clientAuthMethods: ['tls_client_auth'],
  enabledJWA: {
    idTokenSigningAlgValues: [alg],
  },
  clientDefaults: { id_token_signed_response_alg: alg },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: false },
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      tlsClientAuth: true,
      getCertificate(ctx) {
        const cert = ctx.socket.getPeerX509Certificate?.();
        return cert instanceof X509Certificate ? cert : undefined;
      },
      certificateAuthorized(ctx) {
        return ctx.socket.authorized === true;
      },
      certificateSubjectMatches(ctx, property, expected) {
        if (property !== 'tls_client_auth_subject_dn') return false;
        const cert = ctx.socket.getPeerX509Certificate();
        return subjectDn(cert) === expected;
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => args.audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'accounts payments',
        audience: args.audience,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg } },
      }),
    },
  },
});
provider.on('server_error', (ctx, err) => { console.error('server_error', err); });

const pki = args.pki;
const server = https.createServer({
  cert: readFileSync(`${pki}/server.pem`),
  key: readFileSync(`${pki}/server.key`),
  ca: readFileSync(`${pki}/ca.pem`),
  requestCert: true,
  rejectUnauthorized: true,
  keepAliveTimeout: 120_000,
}, provider.callback());
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(Number(args.port), '127.0.0.1', () => {
  console.log(`ready ${args.port} ${alg}`);
});
