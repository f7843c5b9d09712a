// The configuration as plain read-only structs (NGINX-style: create, merge, then read-only).
// yaml-cpp appears only in config/*.cpp. Durations are in seconds unless the name says _ms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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

struct AuthorizationServer {
  bool enabled = false;
  std::string issuer;               // https URL, no trailing slash, no query (RFC 8414 §2)
  std::string mtls_base_url;        // base URL of the mTLS aliases (RFC 8705 §5)
  Listener front;                   // discovery, JWKS, browser endpoints
  Listener mtls;                    // token, introspection, ... (client certificate required)
  std::string signing_alg = "PS256";
  std::int64_t access_token_lifetime = 300;
  std::vector<std::string> access_token_audiences;  // default aud of issued access tokens
  std::vector<std::string> scopes_supported;
  std::vector<ClientRegistration> clients;           // seeded into the store at start
  AccessTokenFormat access_token_format = AccessTokenFormat::Jwt;  // for audiences not in resources
  std::vector<ResourceServer> resources;
  ClientAssertionAudience client_assertion_audience = ClientAssertionAudience::Issuer;
  // Signing keys at rest are sealed (AES-256-GCM) under this 32-byte key: a file holding it in
  // base64, or the FAPIGATE_KEK environment variable. Neither: keys stay in clear (warned).
  std::string key_encryption_key_file;
  std::int64_t key_publish_ahead = 300;    // `keys rotate`: new key in the JWKS this long first
  std::int64_t key_refresh_interval = 30;  // re-read rotated keys from the store this often
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
  std::int64_t jwks_max_age = 300;              // refresh interval when no cache headers
  std::int64_t clock_skew = 10;
};

enum class SenderConstraint { Mtls, None };

struct Route {
  std::string name;
  std::string path;                  // exact path, or prefix when ending with '*'
  std::vector<std::string> methods;  // empty: any
  std::vector<std::string> scopes;   // all required
  std::string upstream;              // http(s)://host:port
  SenderConstraint sender_constraint = SenderConstraint::Mtls;
  std::vector<std::string> issuers;  // allowed issuers; empty: any configured
};

struct Gateway {
  bool enabled = false;
  Listener listener;                 // client certificate required by default
  std::string realm = "fapigate";
  std::vector<Issuer> issuers;
  std::vector<Route> routes;
  std::size_t verified_token_cache_entries = 10'000;
  std::uint32_t upstream_timeout_ms = 10'000;
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

struct Store {
  std::string sqlite_path = "fapigate.db";
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
};

}  // namespace fapigate::config
