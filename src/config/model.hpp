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

enum class ClientCertMode { None, Optional, Required };

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
};

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
};

}  // namespace fapigate::config
