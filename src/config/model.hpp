// The configuration as plain read-only structs (NGINX-style: create, merge, then read-only).
// yaml-cpp appears only in config/*.cpp. Durations are in seconds unless the name says _ms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fapigate::config {

struct Limits {
  std::size_t max_header_bytes = 16 * 1024;  // request line + all header fields
  std::size_t max_header_count = 100;
  std::size_t max_body_bytes = 64 * 1024;
  std::uint32_t handshake_timeout_ms = 10'000;
  std::uint32_t read_timeout_ms = 10'000;    // one whole request, from its first byte
  std::uint32_t idle_timeout_ms = 60'000;    // keep-alive wait between requests
  std::uint32_t write_timeout_ms = 10'000;
  std::uint32_t max_requests_per_connection = 10'000;
};

// RequiredAny: a certificate is demanded (its key proven by the handshake) but may fail to
// chain to client_ca_file; the application sees it with chain_verified=false and decides. Only
// for the AS mTLS listener, for self_signed_tls_client_auth (RFC 8705 §2.2); never the gateway.
enum class ClientCertMode { None, Optional, Required, RequiredAny };

struct Tls {
  std::string cert_file;       // PEM server certificate (chain)
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CA bundle for client certificates
  ClientCertMode client_cert = ClientCertMode::None;
  // FAPI 2.0 SP §5.2.2-1 (RFC 9325 §4.2): TLS 1.2 non-browser endpoints offer only the ECDHE
  // AES-GCM suites. FAPI 1.0 Part 2 §8.5 also lists DHE-RSA AES-GCM; true offers those too,
  // for a FAPI 1.0-only deployment whose clients need them.
  bool tls12_dhe_suites = false;
};

struct Listener {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  std::optional<Tls> tls;  // absent: plain HTTP (only the demo API and admin endpoints)
};

struct ClientRegistration {
  std::string client_id;
  std::string token_endpoint_auth_method = "tls_client_auth";
  std::string tls_client_auth_subject_dn;
  std::string tls_client_auth_san_dns;
  std::string tls_client_auth_san_uri;
  std::string tls_client_auth_san_ip;
  std::string tls_client_auth_san_email;
  std::string jwks_file;  // public JWKS (private_key_jwt, self_signed_tls_client_auth)
  std::vector<std::string> grant_types{"client_credentials"};
  std::vector<std::string> scopes;
  std::vector<std::string> redirect_uris;
  // The security profile the client follows; it selects the authorization-request rules:
  //   fapi2           FAPI 2.0 Security Profile: PAR required, response_type code, PKCE S256,
  //                   no refresh-token rotation (§5.3.2.1-9)
  //   fapi1_advanced  FAPI 1.0 Part 2 Advanced: signed request object required, response_type
  //                   "code id_token" (hybrid) or "code" with JARM
  std::string profile = "fapi2";
  std::vector<std::string> response_types;           // empty: the profile's default
  std::string id_token_signed_response_alg;          // empty: the AS signing_alg
  std::string authorization_signed_response_alg;     // JARM; empty: the AS signing_alg
  std::string request_object_signing_alg;            // empty: any of PS256, ES256, EdDSA
  // OIDC Registration §2: ID tokens signed, then encrypted to the client's RSA key in
  // jwks_file (RSA-OAEP-256 or RSA-OAEP); enc A128CBC-HS256 (default), A256CBC-HS512, A128GCM
  // or A256GCM. Empty: signed only.
  std::string id_token_encrypted_response_alg;
  std::string id_token_encrypted_response_enc;
  bool require_pushed_authorization_requests = true; // fapi2 requires it regardless
  bool refresh_token_rotation = false;               // refused for fapi2 clients
};

// Which "aud" a private_key_jwt client assertion may carry.
//   Issuer            only the issuer identifier, as a JSON string (FAPI 2.0 SP §5.3.2.1-8);
//   IssuerOrEndpoint  the issuer, or the URL of the endpoint it is sent to or of the token
//                     endpoint (front or mTLS alias), alone or in an array (RFC 7523 §3,
//                     RFC 9126 §2, FAPI 1.0 Advanced).
enum class ClientAssertionAudience { Issuer, IssuerOrEndpoint };

// The format of issued access tokens: RFC 9068 JWTs that a resource server verifies itself, or
// opaque reference tokens (random, stored only as a hash) that it resolves by introspection,
// so no claim is readable by the client or anyone on the path (the phantom-token pattern).
enum class AccessTokenFormat { Jwt, Opaque };

// A resource server the AS issues tokens for, identified by the audience its tokens carry.
struct ResourceServer {
  std::string audience;
  std::optional<AccessTokenFormat> access_token_format;  // absent: the AS-wide default
  // client_ids this resource server authenticates with at the introspection endpoint; they may
  // introspect every token whose aud names this audience (RFC 7662 §4).
  std::vector<std::string> introspection_clients;
};

// Dynamic client registration (RFC 7591) and its management (RFC 7592) at
// <mtls_base_url>/register, over mutual TLS and behind an initial access token. Off unless
// enabled.
struct DynamicRegistration {
  bool enabled = false;
  // Initial access tokens as base64url(SHA-256(token)), never the tokens themselves; more from
  // initial_access_tokens_file (one hash per line, '#' comments). At least one when enabled.
  std::vector<std::string> initial_access_tokens;
  std::string initial_access_tokens_file;
  // Software statements (RFC 7591 §2.3): JWS (PS256/ES256) signed by a directory key from this
  // JWKS file, with iss = software_statement_issuer; its claims override the plain metadata.
  bool software_statement_required = true;
  std::string software_statement_jwks_file;
  std::string software_statement_issuer;
  std::int64_t software_statement_max_age = 86400;  // iat no older than this (seconds)
};

// An end user who signs in at the authorization endpoint (seeded into the store at start).
// password_hash is the encoded scrypt string `fapigate users hash-password` prints
// ("$scrypt$ln=15,r=8,p=1$<salt>$<key>"), never a password.
struct User {
  std::string username;
  std::string password_hash;
};

struct AuthorizationServer {
  bool enabled = false;
  std::string issuer;               // https URL, no trailing slash, no query (RFC 8414 §2)
  std::string mtls_base_url;        // base URL of the mTLS aliases (RFC 8705 §5)
  Listener front;                   // discovery, JWKS, browser endpoints
  Listener mtls;                    // token, introspection, ... (client certificate required)
  std::string signing_alg = "PS256";
  std::int64_t access_token_lifetime = 300;
  std::int64_t id_token_lifetime = 300;           // exp - iat of ID tokens
  // The acr (OIDC Core §2) of a sign-in on the login page: one factor, so by default the Open
  // Banking / PSD2 value for customer authentication that is not strong.
  std::string login_acr = "urn:openbanking:psd2:ca";
  // Failed sign-ins on the login page, counted per username and per client address over a
  // sliding window: at the limit, sign-in is refused (429) until the window has passed.
  std::int64_t login_max_failures_per_user = 5;
  std::int64_t login_max_failures_per_address = 20;
  std::int64_t login_failure_window = 900;  // seconds
  // Refresh tokens (RFC 6749 §6) live this long from issue (a rotated one: from its rotation).
  std::int64_t refresh_token_lifetime = 2'592'000;  // 30 days
  std::vector<std::string> access_token_audiences;  // default aud of issued access tokens
  // client_credentials JWT access tokens are self-contained and not written to the store (their
  // revocation is); true writes each one too, an audit row per token at one durable write each.
  bool record_client_credentials_tokens = false;
  std::vector<std::string> scopes_supported;
  std::vector<ClientRegistration> clients;           // seeded into the store at start
  std::vector<User> users;                           // seeded into the store at start
  AccessTokenFormat access_token_format = AccessTokenFormat::Jwt;  // for audiences not in resources
  std::vector<ResourceServer> resources;
  // Who may call the introspection endpoint (RFC 7662 §2.1, §4). false: only the resource
  // servers listed in some resources[].introspection_clients; any other client is refused
  // (FAPI 2.0 Attacker Model's introspection guidance, F2MS §6: an ordinary client must not
  // read tokens there). true: a client may also introspect the tokens issued to itself.
  bool introspection_by_token_owner = false;
  ClientAssertionAudience client_assertion_audience = ClientAssertionAudience::Issuer;
  // Signing keys at rest are sealed (AES-256-GCM) under this 32-byte key: a file holding it in
  // base64, or the FAPIGATE_KEK environment variable. Neither: keys stay in clear (warned).
  std::string key_encryption_key_file;
  std::int64_t key_publish_ahead = 300;    // `keys rotate`: new key in the JWKS this long first
  std::int64_t key_refresh_interval = 30;  // re-read rotated keys from the store this often
  DynamicRegistration registration;
};

// The format of a token that carries `audiences`: each audience's own resources[] setting, else
// the AS-wide default. When they disagree the token is opaque: it must never show its claims to
// a party that expects a reference token (validate() refuses such a default audience list).
inline AccessTokenFormat access_token_format_for(const AuthorizationServer& as,
                                                 const std::vector<std::string>& audiences) {
  for (const auto& aud : audiences) {
    AccessTokenFormat f = as.access_token_format;
    for (const auto& r : as.resources) {
      if (r.audience == aud && r.access_token_format) {
        f = *r.access_token_format;
      }
    }
    if (f == AccessTokenFormat::Opaque) {
      return f;
    }
  }
  return audiences.empty() ? as.access_token_format : AccessTokenFormat::Jwt;
}

struct Issuer {
  std::string issuer;
  std::string jwks_uri;
  std::string ca_file;               // trust for the JWKS fetch (empty: system store)
  std::string client_cert_file;      // optional mTLS to the issuer
  std::string client_key_file;
  std::vector<std::string> audiences;  // an access token's aud must contain one
  std::string extra_keys_file;       // JWKS file trusted in addition (demo only)
  std::int64_t jwks_refetch_min_interval = 30;  // unknown-kid refetch at most this often
  // The JWKS lives for its Cache-Control max-age, bounded to [jwks_min_age, jwks_max_age]
  // (jwks_max_age without cache headers), and is refreshed ahead of that in the background.
  std::int64_t jwks_max_age = 300;
  std::int64_t jwks_min_age = 30;
  // While the issuer is unreachable the last keys keep serving this long past their age; then
  // tokens are refused (keys_unavailable) rather than trusted on keys that may be revoked.
  std::int64_t jwks_max_stale = 86'400;
  std::int64_t clock_skew = 10;
  // One outbound exchange with the issuer (discovery, JWKS, introspection), connect to last
  // byte: a request waiting on it never waits longer.
  std::int64_t fetch_timeout_ms = 5'000;
  // Phantom tokens: opaque (non-JWS) access tokens of this issuer are introspected (RFC 7662)
  // over mTLS (client_cert_file/key_file), asking for the RFC 9701 signed JWT answer, which is
  // verified with this issuer's keys and is what the upstream receives instead of the opaque
  // token. At most one issuer may take opaque tokens (they do not say whose they are).
  bool opaque_tokens = false;
  std::string introspection_endpoint;   // empty: discovered (the mTLS alias when published)
  std::string introspection_client_id;  // this gateway's client_id at the issuer
  std::int64_t introspection_inactive_cache = 10;  // seconds an inactive answer is remembered
  // Revocation of JWT access tokens (FAPI 1.0 Part 1 §6.2.1, FAPI 2.0 SP §5.3.4): 0 trusts a
  // verified JWT until its exp. N > 0 also introspects it at this issuer (the same signed
  // RFC 9701 answer as for opaque tokens) and trusts an "active" answer for N seconds, so a
  // token the issuer revoked is refused within N seconds; no answer refuses the request (fail
  // closed).
  std::int64_t jwt_revocation_check = 0;
};

enum class SenderConstraint { Mtls, None };

// What the upstream receives in Authorization: the incoming JWT as it came (for an opaque
// token, the issuer's signed RFC 9701 introspection answer), or a JWT the gateway signs for
// that upstream with gateway.upstream_token_signing (phantom-token pattern with a token cut to
// the upstream's audience).
enum class UpstreamToken { Incoming, Gateway };

// The gateway's own key for upstream tokens (routes with upstream_token: gateway). The public
// half is served as a JWKS on the admin listener at /upstream-jwks.
struct UpstreamTokenSigning {
  std::string key_file;          // private key: PEM (PKCS#8 / traditional) or a private JWK
  std::string kid;               // empty: the key's RFC 7638 thumbprint
  std::string issuer;            // iss of the tokens it signs
  std::int64_t lifetime = 60;    // seconds; never past the incoming token's exp
};

// TLS towards an https upstream: trust anchors and an optional client certificate (mTLS).
struct UpstreamTls {
  std::string ca_file;           // empty: system store
  std::string client_cert_file;  // optional, with client_key_file
  std::string client_key_file;
};

// Extra scopes a method needs on a route (CRUD: GET needs accounts:read, POST accounts:write).
struct MethodScopes {
  std::string method;
  std::vector<std::string> scopes;  // all required, on top of Route::scopes
};

// A request header the gateway sets from a verified token claim (e.g. X-User from sub).
struct ClaimHeader {
  std::string header;
  std::string claim;
};

struct Route {
  std::string name;
  std::string host;                  // empty: any; else Host (and SNI, when sent) must name it
  // exact path; "{name}" matches one segment; a trailing '*' makes it a prefix
  std::string path;
  std::vector<std::string> methods;  // empty: any
  std::vector<std::string> scopes;   // all required
  std::vector<std::string> scopes_any;  // when not empty: at least one of them required too
  std::vector<MethodScopes> method_scopes;
  std::string upstream;              // http(s)://host:port (one target)
  std::vector<std::string> upstreams;  // a pool, round robin (with `upstream`, it comes first)
  std::optional<UpstreamTls> upstream_tls;
  SenderConstraint sender_constraint = SenderConstraint::Mtls;
  std::vector<std::string> issuers;  // allowed issuers; empty: any configured
  std::vector<std::string> audiences;  // when not empty: the token's aud must name one
  std::vector<ClaimHeader> claim_headers;
  // A header by which a trusted front proxy names further required scopes (F5's x-my-scope);
  // honoured only from gateway.trusted_proxies, stripped from anyone else.
  std::string scope_header;
  UpstreamToken upstream_token = UpstreamToken::Incoming;
  std::string upstream_audience;  // aud of a gateway-signed upstream token; empty: route name
};

struct Gateway {
  bool enabled = false;
  Listener listener;                 // client certificate required by default
  std::string realm = "fapigate";
  std::vector<Issuer> issuers;
  std::vector<Route> routes;
  std::size_t verified_token_cache_entries = 10'000;
  std::uint32_t upstream_timeout_ms = 10'000;
  // Bound on opening a new upstream connection (TCP connect and TLS handshake); only a value
  // below upstream_timeout_ms, which bounds the whole exchange, has an effect. A target that
  // does not answer SYNs costs this, not the whole timeout, before the request moves on.
  std::uint32_t upstream_connect_timeout_ms = 2'000;
  // Idle keep-alive connections kept per upstream origin and worker. Below the number of
  // concurrent requests, every request past it opens (and later closes) a TCP connection.
  std::size_t upstream_max_idle_connections = 256;
  // CIDRs of TLS-terminating load balancers: only their RFC 9440 Client-Cert header and a
  // route's scope_header are believed; from any other peer both are stripped.
  std::vector<std::string> trusted_proxies;
  // A request that could not connect (refused, unreachable, connect timeout: nothing was sent)
  // goes to the next pool target whatever its method; an idempotent one also after a reset
  // before any response byte. At most this many times.
  std::uint32_t upstream_retries = 1;
  std::optional<UpstreamTokenSigning> upstream_token_signing;
};

struct DemoApi {
  bool enabled = false;
  Listener listener;
};

// The operator's listener: /metrics (Prometheus), /healthz, /readyz. Plain HTTP on loopback by
// default; a non-loopback address needs tls, or allow_plaintext_remote to say it is on purpose
// (metrics show traffic volume, routes and issuers, which is not for the network at large).
struct Admin {
  bool enabled = false;
  Listener listener{"127.0.0.1", 9464, std::nullopt};
  bool allow_plaintext_remote = false;
};

// TLS passthrough by SNI (as nginx's stream ssl_preread): whole TLS connections routed to a
// backend by the server name of their ClientHello, never decrypted, so the client's certificate
// reaches the backend's own handshake (one public port for the AS's mTLS host and the gateway).
struct PassthroughRoute {
  std::string server_name;  // DNS name, compared case-insensitively; "*.example.com": one label
  std::string backend;      // host:port
};

// "host:port" or "[v6]:port" with a port 1..65535 and a host of DNS name / address characters;
// nullopt when it is not that.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
inline std::optional<HostPort> parse_host_port(std::string_view v) {
  const auto colon = v.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == v.size() ||
      v.size() - colon - 1 > 5) {
    return std::nullopt;
  }
  std::string_view host = v.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return std::nullopt;
    }
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  for (char c : v.substr(colon + 1)) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port == 0 || port > 65535 || host.size() > 253) {
    return std::nullopt;
  }
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == ':' || c == '_';
    if (!ok) {
      return std::nullopt;
    }
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(port)};
}

struct Passthrough {
  bool enabled = false;
  Listener listener{"127.0.0.1", 0, std::nullopt};  // no tls: nothing is terminated here
  std::vector<PassthroughRoute> routes;
  std::string default_backend;                // no SNI or an unknown name; empty: close
  std::uint32_t client_hello_timeout_ms = 10'000;
  std::uint32_t connect_timeout_ms = 5'000;
  std::uint32_t idle_timeout_ms = 300'000;    // no byte either way for this long: close both
  std::uint32_t max_connections = 10'000;     // open tunnels; beyond it new ones are closed
};

struct Store {
  std::string sqlite_path = "fapigate.db";
  // How often expired tokens, codes and replay entries (and old revoked-grant marks) are
  // removed (store/housekeeping.hpp); 0: never.
  std::int64_t purge_interval_seconds = 600;
};

struct Log {
  std::string level = "info";
  std::string format = "json";  // json | text
};

struct Config {
  std::string source;      // file it came from, for messages
  std::uint32_t threads = 0;  // io_contexts; 0 = one per core
  Limits limits;
  Log log;
  Store store;
  AuthorizationServer authorization_server;
  Gateway gateway;
  DemoApi demo_api;
  Admin admin;
  Passthrough passthrough;
  // Written with the process id once every listener is up, removed at a clean stop; what
  // `fapigate reload -c FILE` signals. Empty: none.
  std::string pid_file;
};

}  // namespace fapigate::config
