#include "config/loader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

using namespace fapigate::config;
namespace fs = std::filesystem;

namespace {

const std::string kDataDir = std::string(FAPIGATE_TEST_DATA_DIR) + "/config";

LoadResult load(const std::string& yaml) { return load_string(yaml, "fapigate.yaml", kDataDir); }

std::string all(const LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors) {
    s += "  " + e + "\n";
  }
  return s;
}

bool has(const LoadResult& r, const std::string& message) {
  return std::find(r.errors.begin(), r.errors.end(), message) != r.errors.end();
}

#define EXPECT_ERROR(r, msg) EXPECT_TRUE(has((r), (msg))) << "want: " << (msg) << "\ngot:\n" << all(r)

// A temporary directory removed at the end of the test.
class TempDir {
public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "fapigate-config-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const {
    fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

private:
  fs::path path_;
};

// A minimal enabled gateway; tests append or substitute parts.
const std::string kGateway = R"(
gateway:
  enabled: true
  listener:
    port: 9000
    tls: {cert_file: pki/server.pem, key_file: pki/server.key, client_ca_file: pki/ca.pem}
  issuers:
    - {issuer: https://as.example.com, jwks_uri: https://as.example.com/jwks, audiences: [api]}
  routes:
)";

}  // namespace

// --- The full sample -------------------------------------------------------------------------

TEST(ConfigLoad, FullSampleLoadsIntoExpectedStructs) {
  LoadResult r = load_file(kDataDir + "/full.yaml");
  ASSERT_TRUE(r.ok()) << all(r);
  const Config& c = r.config;
  EXPECT_EQ(c.source, kDataDir + "/full.yaml");
  EXPECT_EQ(c.threads, 4u);

  EXPECT_EQ(c.limits.max_header_bytes, 32768u);
  EXPECT_EQ(c.limits.max_header_count, 50u);
  EXPECT_EQ(c.limits.max_body_bytes, 131072u);
  EXPECT_EQ(c.limits.handshake_timeout_ms, 5000u);
  EXPECT_EQ(c.limits.read_timeout_ms, 8000u);
  EXPECT_EQ(c.limits.idle_timeout_ms, 30000u);
  EXPECT_EQ(c.limits.write_timeout_ms, 9000u);
  EXPECT_EQ(c.limits.max_requests_per_connection, 500u);
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "text");

  const std::string pki = kDataDir + "/pki/";
  const auto& as = c.authorization_server;
  EXPECT_TRUE(as.enabled);
  EXPECT_EQ(as.issuer, "https://as.example.com");
  EXPECT_EQ(as.mtls_base_url, "https://mtls.as.example.com");
  EXPECT_EQ(as.front.address, "0.0.0.0");
  EXPECT_EQ(as.front.port, 8443);
  ASSERT_TRUE(as.front.tls);
  EXPECT_EQ(as.front.tls->cert_file, pki + "server.pem");
  EXPECT_EQ(as.front.tls->key_file, pki + "server.key");
  EXPECT_EQ(as.front.tls->client_ca_file, "");
  EXPECT_EQ(as.front.tls->client_cert, ClientCertMode::None);
  EXPECT_EQ(as.mtls.port, 8444);
  ASSERT_TRUE(as.mtls.tls);
  EXPECT_EQ(as.mtls.tls->client_ca_file, pki + "ca.pem");
  EXPECT_EQ(as.mtls.tls->client_cert, ClientCertMode::Required);  // the role's default
  EXPECT_TRUE(as.mtls.tls->tls12_dhe_suites);
  EXPECT_FALSE(as.front.tls->tls12_dhe_suites);  // FAPI 2.0's ECDHE-only default
  EXPECT_EQ(as.signing_alg, "ES256");
  EXPECT_EQ(as.access_token_lifetime, 600);
  EXPECT_EQ(as.access_token_audiences, std::vector<std::string>{"https://api.example.com"});
  EXPECT_EQ(as.scopes_supported, (std::vector<std::string>{"openid", "accounts", "payments"}));
  ASSERT_EQ(as.clients.size(), 3u);
  const auto& p = as.clients[0];
  EXPECT_EQ(p.client_id, "partner-client");
  EXPECT_EQ(p.token_endpoint_auth_method, "tls_client_auth");
  EXPECT_EQ(p.tls_client_auth_subject_dn, "CN=partner-client,O=Partner B");
  EXPECT_EQ(p.grant_types, (std::vector<std::string>{"client_credentials", "authorization_code",
                                                      "refresh_token"}));
  EXPECT_EQ(p.scopes, (std::vector<std::string>{"accounts", "payments"}));
  EXPECT_EQ(p.redirect_uris, std::vector<std::string>{"https://partner.example.com/cb"});
  EXPECT_EQ(as.clients[1].token_endpoint_auth_method, "private_key_jwt");
  EXPECT_EQ(as.clients[1].jwks_file, kDataDir + "/keys/tpp.jwks.json");
  EXPECT_EQ(as.clients[1].id_token_encrypted_response_alg, "RSA-OAEP-256");
  EXPECT_EQ(as.clients[1].id_token_encrypted_response_enc, "A256GCM");
  EXPECT_EQ(as.clients[0].id_token_encrypted_response_alg, "");
  // Defaults of a client entry.
  EXPECT_EQ(as.clients[2].token_endpoint_auth_method, "tls_client_auth");
  EXPECT_EQ(as.clients[2].tls_client_auth_san_dns, "san-client.example.com");
  EXPECT_EQ(as.clients[2].grant_types, std::vector<std::string>{"client_credentials"});

  const auto& gw = c.gateway;
  EXPECT_TRUE(gw.enabled);
  EXPECT_EQ(gw.listener.port, 8445);
  ASSERT_TRUE(gw.listener.tls);
  EXPECT_EQ(gw.listener.tls->client_cert, ClientCertMode::Optional);
  EXPECT_EQ(gw.realm, "bank-api");
  ASSERT_EQ(gw.issuers.size(), 2u);
  const auto& i0 = gw.issuers[0];
  EXPECT_EQ(i0.issuer, "https://as.example.com");
  EXPECT_EQ(i0.jwks_uri, "https://as.example.com/jwks");
  EXPECT_EQ(i0.ca_file, pki + "ca.pem");
  EXPECT_EQ(i0.client_cert_file, pki + "server.pem");
  EXPECT_EQ(i0.client_key_file, pki + "server.key");
  EXPECT_EQ(i0.audiences, std::vector<std::string>{"https://api.example.com"});
  EXPECT_EQ(i0.extra_keys_file, kDataDir + "/keys/extra.jwks.json");
  EXPECT_EQ(i0.jwks_refetch_min_interval, 60);
  EXPECT_EQ(i0.jwks_max_age, 600);
  EXPECT_EQ(i0.clock_skew, 5);
  EXPECT_EQ(i0.fetch_timeout_ms, 2500);
  // Defaults of an issuer entry.
  EXPECT_EQ(gw.issuers[1].jwks_refetch_min_interval, 30);
  EXPECT_EQ(gw.issuers[1].jwks_max_age, 300);
  EXPECT_EQ(gw.issuers[1].clock_skew, 10);
  EXPECT_EQ(gw.issuers[1].fetch_timeout_ms, 5000);
  EXPECT_EQ(gw.issuers[1].ca_file, "");
  ASSERT_EQ(gw.routes.size(), 3u);
  EXPECT_EQ(gw.routes[0].name, "accounts");
  EXPECT_EQ(gw.routes[0].path, "/accounts*");
  EXPECT_EQ(gw.routes[0].methods, std::vector<std::string>{"GET"});
  EXPECT_EQ(gw.routes[0].scopes, std::vector<std::string>{"accounts"});
  EXPECT_EQ(gw.routes[0].upstream, "http://127.0.0.1:8446");
  EXPECT_EQ(gw.routes[0].sender_constraint, SenderConstraint::Mtls);
  EXPECT_EQ(gw.routes[0].issuers, std::vector<std::string>{"https://as.example.com"});
  EXPECT_EQ(gw.routes[1].methods, (std::vector<std::string>{"POST", "GET"}));
  EXPECT_EQ(gw.routes[2].sender_constraint, SenderConstraint::None);
  EXPECT_TRUE(gw.routes[2].methods.empty());
  EXPECT_EQ(gw.verified_token_cache_entries, 2048u);
  EXPECT_EQ(gw.upstream_timeout_ms, 2500u);
  EXPECT_EQ(gw.upstream_connect_timeout_ms, 700u);
  EXPECT_EQ(gw.upstream_max_idle_connections, 64u);

  EXPECT_TRUE(c.demo_api.enabled);
  EXPECT_EQ(c.demo_api.listener.address, "127.0.0.1");
  EXPECT_EQ(c.demo_api.listener.port, 8446);
  EXPECT_FALSE(c.demo_api.listener.tls);
}

TEST(ConfigLoad, RelativePathsResolvedAgainstTheFilesDirectory) {
  LoadResult r = load_file(kDataDir + "/full.yaml");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config.store.sqlite_path, kDataDir + "/data/fapigate.db");
  EXPECT_EQ(r.config.store.purge_interval_seconds, 120);
  EXPECT_TRUE(fs::path(r.config.authorization_server.front.tls->cert_file).is_absolute());

  // A relative config path still gives absolute file paths.
  TempDir dir;
  fs::create_directories(dir.path() / "sub" / "pki");
  dir.write("sub/pki/c.pem", "x");
  dir.write("sub/app.yaml",
            "store: {sqlite_path: state/db.sqlite}\n"
            "demo_api:\n  enabled: true\n  listener:\n    tls: {cert_file: pki/c.pem, key_file: "
            "/abs/k.pem}\n");
  fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  LoadResult rel = load_file("sub/app.yaml");
  fs::current_path(cwd);
  fs::path base = fs::canonical(dir.path()) / "sub";
  EXPECT_EQ(rel.config.store.sqlite_path, (base / "state/db.sqlite").string());
  ASSERT_TRUE(rel.config.demo_api.listener.tls);
  EXPECT_EQ(rel.config.demo_api.listener.tls->cert_file, (base / "pki/c.pem").string());
  EXPECT_EQ(rel.config.demo_api.listener.tls->key_file, "/abs/k.pem");  // absolute: unchanged
  // The only problem is the missing absolute key file.
  ASSERT_EQ(rel.errors.size(), 1u) << all(rel);
  EXPECT_EQ(rel.errors[0], "sub/app.yaml: demo_api.listener.tls.key_file: cannot read "
                           "'/abs/k.pem': No such file or directory");
}

TEST(ConfigLoad, StorePurgeIntervalIsBounded) {
  EXPECT_EQ(load("store: {sqlite_path: x.db}\n").config.store.purge_interval_seconds, 600);
  EXPECT_TRUE(load("store: {sqlite_path: x.db, purge_interval_seconds: 0}\n").errors.empty());
  auto r = load("store: {sqlite_path: x.db, purge_interval_seconds: 86401}\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("store.purge_interval_seconds: must be between 0 and 86400"),
            std::string::npos)
      << r.errors[0];
}

TEST(ConfigLoad, SqliteSpecialNamesAreNotResolved) {
  LoadResult r = load("store: {sqlite_path: ':memory:'}\n");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config.store.sqlite_path, ":memory:");
}

TEST(ConfigLoad, DefaultsWhenSectionsAreAbsent) {
  LoadResult r = load("threads: 0\n");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config.threads, 0u);
  EXPECT_EQ(r.config.limits.max_body_bytes, Limits{}.max_body_bytes);
  EXPECT_EQ(r.config.store.sqlite_path, kDataDir + "/fapigate.db");
  EXPECT_FALSE(r.config.authorization_server.enabled);
  EXPECT_FALSE(r.config.gateway.enabled);
  EXPECT_EQ(r.config.log.level, "info");
}

TEST(ConfigLoad, GatewayListenerRequiresClientCertByDefault) {
  LoadResult r = load(kGateway + "    - {path: /a, upstream: 'http://127.0.0.1:1'}\n");
  ASSERT_TRUE(r.ok()) << all(r);
  ASSERT_TRUE(r.config.gateway.listener.tls);
  EXPECT_EQ(r.config.gateway.listener.tls->client_cert, ClientCertMode::Required);
}

// --- One test per error kind -----------------------------------------------------------------

TEST(ConfigErrors, UnknownKeyWithSuggestion) {
  LoadResult r = load(kGateway + "    - {path: /a, upstream: 'http://127.0.0.1:1'}\n"
                                 "    - {path: /b, upstrem: 'http://127.0.0.1:1'}\n");
  EXPECT_ERROR(r, "fapigate.yaml: gateway.routes[1].upstrem: unknown key; did you mean "
                  "'upstream'?");
  // The misspelt key is not also reported as missing.
  EXPECT_EQ(r.errors.size(), 1u) << all(r);
}

TEST(ConfigErrors, UnknownKeyWithoutSuggestion) {
  LoadResult r = load("threads: 1\ncompletely_different: 1\nlimits: {max_body: 1}\n");
  EXPECT_ERROR(r, "fapigate.yaml: completely_different: unknown key");
  EXPECT_ERROR(r, "fapigate.yaml: limits.max_body: unknown key");
  EXPECT_EQ(r.errors.size(), 2u) << all(r);
}

TEST(ConfigErrors, UnknownTopLevelKeySuggestion) {
  LoadResult r = load("gatway: {enabled: false}\n");
  EXPECT_ERROR(r, "fapigate.yaml: gatway: unknown key; did you mean 'gateway'?");
}

TEST(ConfigErrors, DuplicateKey) {
  LoadResult r = load("threads: 1\nthreads: 2\n");
  EXPECT_ERROR(r, "fapigate.yaml: threads: duplicate key");
}

TEST(ConfigErrors, ExpectedAnInteger) {
  LoadResult r = load("threads: many\nlimits: {max_body_bytes: 1.5, read_timeout_ms: [1]}\n");
  EXPECT_ERROR(r, "fapigate.yaml: threads: expected an integer, got 'many'");
  EXPECT_ERROR(r, "fapigate.yaml: limits.max_body_bytes: expected an integer, got '1.5'");
  EXPECT_ERROR(r, "fapigate.yaml: limits.read_timeout_ms: expected an integer, got a list");
  EXPECT_EQ(r.errors.size(), 3u) << all(r);
}

TEST(ConfigErrors, ExpectedABoolean) {
  LoadResult r = load("gateway: {enabled: yes}\n");
  EXPECT_ERROR(r, "fapigate.yaml: gateway.enabled: expected true or false, got 'yes'");
}

TEST(ConfigErrors, ExpectedAString) {
  LoadResult r = load("log: {level: {a: 1}}\nstore: {sqlite_path: }\n");
  EXPECT_ERROR(r, "fapigate.yaml: log.level: expected a string, got a mapping");
  EXPECT_ERROR(r, "fapigate.yaml: store.sqlite_path: expected a string, got an empty value");
}

TEST(ConfigErrors, ExpectedAListOrMapping) {
  LoadResult r = load("limits: 5\nauthorization_server: {scopes_supported: openid, clients: x}\n"
                      "gateway: {routes: [5]}\n");
  EXPECT_ERROR(r, "fapigate.yaml: limits: expected a mapping, got a scalar");
  EXPECT_ERROR(r, "fapigate.yaml: authorization_server.scopes_supported: expected a list of "
                  "strings, got a scalar");
  EXPECT_ERROR(r, "fapigate.yaml: authorization_server.clients: expected a list, got a scalar");
  EXPECT_ERROR(r, "fapigate.yaml: gateway.routes[0]: expected a mapping, got a scalar");
}

TEST(ConfigErrors, ListElementOfWrongType) {
  LoadResult r = load("authorization_server: {scopes_supported: [openid, [x]]}\n");
  EXPECT_ERROR(r, "fapigate.yaml: authorization_server.scopes_supported[1]: expected a string, "
                  "got a list");
}

TEST(ConfigErrors, IntegerOutOfRangeForItsType) {
  LoadResult r = load("authorization_server: {front: {port: 70000}}\n"
                      "limits: {read_timeout_ms: -1, max_body_bytes: 99999999999999999999999}\n");
  EXPECT_ERROR(r, "fapigate.yaml: authorization_server.front.port: must be between 0 and 65535");
  EXPECT_ERROR(r, "fapigate.yaml: limits.read_timeout_ms: must be between 0 and 4294967295");
  EXPECT_ERROR(r, "fapigate.yaml: limits.max_body_bytes: must be between 0 and "
                  "9223372036854775807");
}

TEST(ConfigErrors, IntegerOutOfAllowedRange) {
  LoadResult r = load("limits: {max_header_bytes: 10, idle_timeout_ms: 0}\nthreads: 5000\n");
  EXPECT_ERROR(r, "fapigate.yaml: limits.max_header_bytes: must be between 1024 and 1048576 "
                  "bytes");
  EXPECT_ERROR(r, "fapigate.yaml: limits.idle_timeout_ms: must be between 1 and 3600000 "
                  "milliseconds");
  EXPECT_ERROR(r, "fapigate.yaml: threads: must be between 0 and 1024");
}

TEST(ConfigErrors, BadEnumValueListsTheAllowedOnes) {
  LoadResult r = load("gateway:\n  listener: {tls: {client_cert: sometimes}}\n"
                      "  routes: [{sender_constraint: dpop}]\nlog: {level: verbose}\n");
  EXPECT_ERROR(r, "fapigate.yaml: gateway.listener.tls.client_cert: invalid value 'sometimes'; "
                  "must be one of: none, optional, required, required_any");
  EXPECT_ERROR(r, "fapigate.yaml: gateway.routes[0].sender_constraint: invalid value 'dpop'; "
                  "must be one of: mtls, none");
  EXPECT_ERROR(r, "fapigate.yaml: log.level: invalid value 'verbose'; must be one of: debug, "
                  "info, warn, error, off");
}

TEST(ConfigErrors, MissingRequiredKey) {
  LoadResult r = load(kGateway + "    - {path: /a}\n");
  EXPECT_ERROR(r, "fapigate.yaml: gateway.routes[0].upstream: required key is missing");
  EXPECT_EQ(r.errors.size(), 1u) << all(r);
}

TEST(ConfigErrors, UpstreamMustBeHttpUrl) {
  LoadResult r = load(kGateway + "    - {path: /a, upstream: 'http://127.0.0.1:1'}\n"
                                 "    - {path: /b, upstream: 'https://up.internal'}\n"
                                 "    - {path: /c, upstream: 'ftp://files'}\n"
                                 "    - {path: /d, upstream: 'not a url'}\n");
  EXPECT_ERROR(r, "fapigate.yaml: gateway.routes[2].upstream: must be an http:// or https:// URL");
  EXPECT_ERROR(r, "fapigate.yaml: gateway.routes[3].upstream: must be an http:// or https:// URL");
  EXPECT_EQ(r.errors.size(), 2u) << all(r);
}

TEST(ConfigErrors, WrongTypeIsNotAlsoReportedAsMissing) {
  LoadResult r = load(kGateway + "    - {path: /a, upstream: [x]}\n    - 7\n");
  EXPECT_ERROR(r, "fapigate.yaml: gateway.routes[0].upstream: expected a string, got a list");
  EXPECT_ERROR(r, "fapigate.yaml: gateway.routes[1]: expected a mapping, got a scalar");
  EXPECT_EQ(r.errors.size(), 2u) << all(r);
}

// --- Several problems at once ----------------------------------------------------------------

TEST(ConfigErrors, EveryProblemIsReportedTogether) {
  LoadResult r = load(R"(
threads: lots
limits: {max_header_count: 0}
authorization_server:
  enabled: true
  issuer: http://as.example.com/
  signing_alg: RS256
  front: {port: 8443}
  mtls: {port: 8443, tls: {cert_file: pki/server.pem, key_file: missing.key}}
  clients:
    - {client_id: a, token_endpoint_auth_method: client_secret_basic}
    - {client_id: a, tls_client_auth_subject_dn: CN=a}
gateway:
  enabled: true
  listener: {port: 9000}
  rutes: []
)");
  EXPECT_FALSE(r.ok());
  for (const std::string& want : std::vector<std::string>{
           "fapigate.yaml: threads: expected an integer, got 'lots'",
           "fapigate.yaml: limits.max_header_count: must be between 1 and 10000",
           "fapigate.yaml: authorization_server.issuer: must be an https:// URL",
           "fapigate.yaml: authorization_server.signing_alg: invalid value 'RS256'; must be one "
           "of: PS256, ES256, EdDSA",
           "fapigate.yaml: authorization_server.front.tls: required key is missing (this "
           "listener must use TLS)",
           "fapigate.yaml: authorization_server.mtls.tls.key_file: cannot read '" + kDataDir +
               "/missing.key': No such file or directory",
           "fapigate.yaml: authorization_server.mtls.tls.client_ca_file: required when "
           "client_cert is 'required'",
           "fapigate.yaml: authorization_server.mtls: address 127.0.0.1:8443 is already used by "
           "authorization_server.front",
           "fapigate.yaml: authorization_server.clients[0].token_endpoint_auth_method: invalid "
           "value 'client_secret_basic'; must be one of: tls_client_auth, "
           "self_signed_tls_client_auth, private_key_jwt",
           "fapigate.yaml: authorization_server.clients[1].client_id: duplicate client_id 'a' "
           "(also authorization_server.clients[0])",
           "fapigate.yaml: gateway.rutes: unknown key; did you mean 'routes'?",
           "fapigate.yaml: gateway.issuers: the gateway needs at least one issuer",
           "fapigate.yaml: gateway.listener.tls: required key is missing (this listener must "
           "use TLS)",
       }) {
    EXPECT_ERROR(r, want);
  }
  // Not also "gateway.routes: the gateway needs at least one route": the misspelt key covers it.
  EXPECT_EQ(r.errors.size(), 13u) << all(r);
}

TEST(ConfigErrors, ErrorCountIsBounded) {
  std::string yaml;
  for (int i = 0; i < 500; ++i) {
    yaml += "unknown_" + std::to_string(i) + ": 1\n";
  }
  LoadResult r = load(yaml);
  ASSERT_EQ(r.errors.size(), 101u);
  EXPECT_EQ(r.errors.back(), "fapigate.yaml: too many errors; only the first 100 are shown");
}

// --- Documents that are not a configuration --------------------------------------------------

TEST(ConfigDocument, MalformedYamlNamesLineAndColumn) {
  LoadResult r = load("threads: 1\nlimits: [1, 2\n");
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_EQ(r.errors[0],
            "fapigate.yaml: invalid YAML: line 3, column 1: end of sequence flow not found");
}

TEST(ConfigDocument, BadIndentation) {
  LoadResult r = load("gateway:\n  enabled: true\n realm: x\n");
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_EQ(r.errors[0].rfind("fapigate.yaml: invalid YAML: line 3, column ", 0), 0u)
      << r.errors[0];
}

TEST(ConfigDocument, EmptyFile) {
  TempDir dir;
  std::string path = dir.write("empty.yaml", "");
  LoadResult r = load_file(path);
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_EQ(r.errors[0], path + ": the document is empty; expected a mapping of settings");
  EXPECT_FALSE(load("# only a comment\n").ok());
}

TEST(ConfigDocument, TopLevelMustBeAMapping) {
  LoadResult r = load("- threads: 1\n");
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_EQ(r.errors[0], "fapigate.yaml: the top level must be a mapping of settings, got a list");
  r = load("just a string\n");
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_EQ(r.errors[0],
            "fapigate.yaml: the top level must be a mapping of settings, got a scalar");
}

TEST(ConfigDocument, MoreThanOneDocument) {
  LoadResult r = load("threads: 1\n---\nthreads: 2\n");
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_EQ(r.errors[0], "fapigate.yaml: expected one YAML document, found 2");
}

TEST(ConfigDocument, HugeFileRefused) {
  TempDir dir;
  std::string big = "threads: 1\n" + std::string(1024 * 1024, '#') + "\n";
  std::string path = dir.write("big.yaml", big);
  LoadResult r = load_file(path);
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_EQ(r.errors[0], path + ": larger than the 1 MiB limit");
  EXPECT_FALSE(load(big).ok());
}

TEST(ConfigDocument, MissingFile) {
  LoadResult r = load_file("/nonexistent/fapigate.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "/nonexistent/fapigate.yaml: cannot open: No such file or directory");
}

TEST(ConfigDocument, DirectoryIsNotAConfigFile) {
  TempDir dir;
  LoadResult r = load_file(dir.path().string());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], dir.path().string() + ": not a regular file");
}

TEST(ConfigDocument, AliasBombRefused) {
  // "Billion laughs": each level references the previous one ten times.
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) {
      yaml += (j ? ", " : "") + prev;
    }
    yaml += "]\n";
  }
  LoadResult r = load(yaml);
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_EQ(r.errors[0], "fapigate.yaml: document too large or too deeply nested once aliases "
                         "are expanded (limits: 100000 nodes, depth 64)");
}

TEST(ConfigDocument, SelfReferencingAliasRefused) {
  LoadResult r = load("threads: &a [1, *a]\n");
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
  EXPECT_NE(r.errors[0].find("too large or too deeply nested"), std::string::npos);
}

TEST(ConfigDocument, DeepNestingRefused) {
  std::string yaml = "threads: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  LoadResult r = load(yaml);
  ASSERT_EQ(r.errors.size(), 1u) << all(r);
}

TEST(ConfigDocument, ModestAliasesAreFine) {
  LoadResult r = load(kGateway + "    - &r {path: /a, upstream: 'http://127.0.0.1:1'}\n"
                                 "    - {path: /b, upstream: 'http://127.0.0.1:1'}\n");
  EXPECT_TRUE(r.ok()) << all(r);
}

TEST(ConfigDocument, SourceWithoutDirectoryLeavesPathsAlone) {
  LoadResult r = load_string("store: {sqlite_path: x.db}\n", "inline");
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.config.store.sqlite_path, "x.db");
  EXPECT_EQ(r.config.source, "inline");
}
