// `fapigate demo`: every role on loopback with a generated PKI, per the demo contract in
// ARCHITECTURE.md (ports N..N+3, the `ready` line, DIR/demo.json).
#include <filesystem>
#include <iostream>

#include <boost/json/serialize.hpp>

#include "cli/commands.hpp"
#include "cli/demo_pki.hpp"
#include "cli/files.hpp"
#include "cli/runtime.hpp"
#include "as/password.hpp"
#include "config/loader.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/pki.hpp"
#include "crypto/x509.hpp"
#include "jose/jwk.hpp"

namespace fapigate::cli {
namespace {

std::string url(std::uint16_t port) { return "https://localhost:" + std::to_string(port); }

// Dynamic client registration in the demo: an initial access token (kept in DIR so restarts
// reuse it; only its hash goes into the configuration) and a stand-in Open Banking directory
// whose private signing key tests use to sign software statements.
struct DemoRegistration {
  std::string initial_access_token;
  std::string signing_key_file;  // private JWK (PS256, kid) of the demo directory
  std::string signing_key_pem;   // the same key as PKCS#8 PEM, for openssl in shell recipes
  std::string jwks_file;         // its public JWKS, trusted for software statements
};
constexpr const char* kDemoDirectoryIssuer = "https://directory.fapigate.demo";

Result<DemoRegistration> ensure_registration(const std::string& dir) {
  auto io = [] { return make_error_code(boost::system::errc::io_error); };
  std::error_code ec;
  std::filesystem::create_directories(dir + "/keys", ec);
  DemoRegistration r;
  const std::string token_file = dir + "/keys/initial-access-token";
  if (auto text = read_file(token_file); text && core::trim(*text).size() >= 32) {
    r.initial_access_token = std::string(core::trim(*text));
  } else {
    r.initial_access_token = crypto::random_token(32);
    if (!write_file(token_file, r.initial_access_token + "\n", true)) {
      return io();
    }
  }
  r.signing_key_file = dir + "/keys/directory-signing-key.jwk.json";
  r.jwks_file = dir + "/keys/directory.jwks.json";
  r.signing_key_pem = dir + "/keys/directory-signing-key.pem";
  std::optional<jose::Jwk> jwk;
  if (auto text = read_file(r.signing_key_file)) {
    if (auto parsed = jose::parse_jwk(*text); parsed && parsed->key.is_private()) {
      jwk = std::move(*parsed);
    }
  }
  if (!jwk) {
    // RSA and PS256, as the Open Banking directories sign.
    auto key = crypto::Key::generate(crypto::KeyType::Rsa);
    if (!key) {
      return key.error();
    }
    jwk = jose::make_jwk(*key, "", jose::Alg::PS256);
    jwk->kid = "demo-directory-" + jose::thumbprint(*jwk).substr(0, 16);
    if (!write_file(r.signing_key_file, jose::to_json_string(*jwk, true), true)) {
      return io();
    }
  }
  if (!file_exists(r.signing_key_pem) &&
      !write_file(r.signing_key_pem, jwk->key.private_pem(), true)) {
    return io();
  }
  jose::Jwks pub;
  pub.keys.push_back(jose::make_jwk(jwk->key.public_only(), jwk->kid, jwk->alg));
  if (!write_file(r.jwks_file, jose::to_json_string(pub, false))) {
    return io();
  }
  return r;
}

// The authorization-code flow in the demo: the customer alice (a random password kept in DIR,
// so restarts reuse it), and two more partners a test can act as: a FAPI 1.0 Advanced client
// (tls_client_auth, request objects signed with its key) and a FAPI 2.0 private_key_jwt
// client. Each has a client certificate from the demo CA (tokens are bound to it) and a
// private JWK in DIR whose public half is registered.
struct DemoClientFiles {
  std::string client_id;
  std::string cert_file, key_file, subject_dn;
  std::string jwk_private_file;  // private JWK (ES256, kid)
  std::string jwks_file;         // its public JWKS, registered as the client's jwks_file
  std::string redirect_uri;
};
struct DemoFrontChannel {
  std::string username = "alice";
  std::string password;
  std::string password_hash;
  DemoClientFiles fapi1, fapi2;
};

Result<DemoClientFiles> ensure_demo_client(const std::string& dir, const DemoPki& pki,
                                           const std::string& id, const std::string& org) {
  auto io = [] { return make_error_code(boost::system::errc::io_error); };
  DemoClientFiles f;
  f.client_id = id;
  f.cert_file = dir + "/pki/" + id + ".pem";
  f.key_file = dir + "/pki/" + id + ".key";
  f.jwk_private_file = dir + "/keys/" + id + ".jwk.json";
  f.jwks_file = dir + "/keys/" + id + ".jwks.json";
  f.redirect_uri = "https://" + id + ".example/cb";
  if (!file_exists(f.cert_file) || !file_exists(f.key_file)) {
    auto ca_pem = read_file(pki.ca_cert);
    auto ca_key = read_file(pki.ca_key);
    if (!ca_pem || !ca_key) {
      return io();
    }
    auto ca = crypto::load_ca(*ca_pem, *ca_key);
    if (!ca) {
      return ca.error();
    }
    crypto::LeafOptions o;
    o.common_name = id;
    o.organization = org;
    o.organizational_unit = "TPP";
    auto issued = crypto::issue_client_certificate(*ca, o);
    if (!issued) {
      return issued.error();
    }
    if (!write_file(f.key_file, issued->key_pem, true) ||
        !write_file(f.cert_file, issued->cert_pem)) {
      return io();
    }
  }
  auto pem = read_file(f.cert_file);
  if (!pem) {
    return io();
  }
  auto cert = crypto::parse_certificate_pem(*pem);
  if (!cert) {
    return cert.error();
  }
  f.subject_dn = cert->subject_dn;
  std::optional<jose::Jwk> jwk;
  if (auto text = read_file(f.jwk_private_file)) {
    if (auto parsed = jose::parse_jwk(*text); parsed && parsed->key.is_private()) {
      jwk = std::move(*parsed);
    }
  }
  if (!jwk) {
    auto key = crypto::Key::generate(crypto::KeyType::Ec);
    if (!key) {
      return key.error();
    }
    jwk = jose::make_jwk(*key, "", jose::Alg::ES256);
    jwk->kid = id + "-" + jose::thumbprint(*jwk).substr(0, 16);
    if (!write_file(f.jwk_private_file, jose::to_json_string(*jwk, true), true)) {
      return io();
    }
  }
  jose::Jwks pub;
  pub.keys.push_back(jose::make_jwk(jwk->key.public_only(), jwk->kid, jwk->alg));
  if (!write_file(f.jwks_file, jose::to_json_string(pub, false))) {
    return io();
  }
  return f;
}

Result<DemoFrontChannel> ensure_front_channel(const std::string& dir, const DemoPki& pki) {
  auto io = [] { return make_error_code(boost::system::errc::io_error); };
  std::error_code ec;
  std::filesystem::create_directories(dir + "/keys", ec);
  DemoFrontChannel f;
  const std::string password_file = dir + "/keys/alice-password";
  if (auto text = read_file(password_file); text && core::trim(*text).size() >= 16) {
    f.password = std::string(core::trim(*text));
  } else {
    f.password = crypto::random_token(18);
    if (!write_file(password_file, f.password + "\n", true)) {
      return io();
    }
  }
  auto hash = as::hash_password(f.password);
  if (!hash) {
    return hash.error();
  }
  f.password_hash = std::move(*hash);
  auto fapi1 = ensure_demo_client(dir, pki, "fapi1-partner", "FAPI One Bank Apps Ltd");
  if (!fapi1) {
    return fapi1.error();
  }
  auto fapi2 = ensure_demo_client(dir, pki, "fapi2-partner", "FAPI Two Fintech SAS");
  if (!fapi2) {
    return fapi2.error();
  }
  f.fapi1 = std::move(*fapi1);
  f.fapi2 = std::move(*fapi2);
  return f;
}

void add_front_channel(config::AuthorizationServer& as, const DemoFrontChannel& f) {
  // The two contract partners: FAPI 2.0 (the default profile), code flow with PAR.
  for (auto& c : as.clients) {
    if (c.client_id == "partner-client" || c.client_id == "other-partner") {
      c.redirect_uris = {"https://" + c.client_id + ".example/cb"};
      c.response_types = {"code"};
    }
  }
  config::ClientRegistration fapi1;
  fapi1.client_id = f.fapi1.client_id;
  fapi1.token_endpoint_auth_method = "tls_client_auth";
  fapi1.tls_client_auth_subject_dn = f.fapi1.subject_dn;
  fapi1.jwks_file = f.fapi1.jwks_file;
  fapi1.grant_types = {"authorization_code", "refresh_token"};
  fapi1.scopes = {"accounts", "payments"};
  fapi1.redirect_uris = {f.fapi1.redirect_uri};
  fapi1.profile = "fapi1_advanced";
  fapi1.response_types = {"code id_token", "code"};
  // FAPI 1.0 Advanced allows the signed request object by value at /authorize, too.
  fapi1.require_pushed_authorization_requests = false;
  as.clients.push_back(std::move(fapi1));
  config::ClientRegistration fapi2;
  fapi2.client_id = f.fapi2.client_id;
  fapi2.token_endpoint_auth_method = "private_key_jwt";
  fapi2.jwks_file = f.fapi2.jwks_file;
  fapi2.grant_types = {"authorization_code", "refresh_token"};
  fapi2.scopes = {"accounts", "payments"};
  fapi2.redirect_uris = {f.fapi2.redirect_uri};
  fapi2.response_types = {"code"};
  as.clients.push_back(std::move(fapi2));
  as.users.push_back(config::User{f.username, f.password_hash});
}

boost::json::object demo_client_json(const DemoClientFiles& f) {
  return boost::json::object{{"client_id", f.client_id},
                             {"cert_file", f.cert_file},
                             {"key_file", f.key_file},
                             {"jwks_private_file", f.jwk_private_file},
                             {"redirect_uri", f.redirect_uri}};
}

config::Config demo_config(const std::string& dir, std::uint16_t n, const DemoPki& pki,
                           const std::string& test_key) {
  config::Config c;
  c.source = "demo";
  c.log.level = "info";
  c.store.sqlite_path = dir + "/fapigate.db";

  config::Tls server_tls;
  server_tls.cert_file = pki.server_cert;
  server_tls.key_file = pki.server_key;
  server_tls.client_ca_file = pki.ca_cert;

  auto& as = c.authorization_server;
  as.enabled = true;
  as.issuer = url(n);
  as.mtls_base_url = url(n + 1);
  as.front.port = n;
  as.front.tls = server_tls;
  as.front.tls->client_cert = config::ClientCertMode::None;
  as.mtls.port = n + 1;
  as.mtls.tls = server_tls;
  as.mtls.tls->client_cert = config::ClientCertMode::Required;
  as.signing_alg = "PS256";
  as.access_token_lifetime = 300;
  as.access_token_audiences = {url(n + 2)};
  as.scopes_supported = {"accounts", "payments"};
  // The README's recipes introspect a partner's token with the partner's own certificate; a
  // production AS leaves this off so that only resource servers may introspect.
  as.introspection_by_token_owner = true;
  for (auto [id, dn] : {std::pair{"partner-client", pki.partner_subject_dn},
                        std::pair{"other-partner", pki.other_partner_subject_dn}}) {
    config::ClientRegistration reg;
    reg.client_id = id;
    reg.token_endpoint_auth_method = "tls_client_auth";
    reg.tls_client_auth_subject_dn = dn;
    reg.grant_types = {"client_credentials", "authorization_code"};
    reg.scopes = {"accounts", "payments"};
    as.clients.push_back(std::move(reg));
  }

  auto& gw = c.gateway;
  gw.enabled = true;
  gw.listener.port = n + 2;
  gw.listener.tls = server_tls;
  gw.listener.tls->client_cert = config::ClientCertMode::Required;
  config::Issuer issuer;
  issuer.issuer = as.issuer;
  issuer.jwks_uri = as.issuer + "/jwks";
  issuer.ca_file = pki.ca_cert;
  issuer.audiences = {url(n + 2)};
  issuer.extra_keys_file = test_key;
  gw.issuers.push_back(issuer);
  const std::string upstream = "http://127.0.0.1:" + std::to_string(n + 3);
  config::Route accounts;
  accounts.name = "accounts";
  accounts.path = "/accounts";
  accounts.methods = {"GET"};
  accounts.scopes = {"accounts"};
  accounts.upstream = upstream;
  config::Route payments;
  payments.name = "payments";
  payments.path = "/domestic-payments";
  payments.methods = {"POST"};
  payments.scopes = {"payments"};
  payments.upstream = upstream;
  gw.routes = {accounts, payments};

  c.demo_api.enabled = true;
  c.demo_api.listener.address = "127.0.0.1";
  c.demo_api.listener.port = n + 3;

  // The contract fixes N..N+3; the admin listener takes any free port and is announced in
  // demo.json (admin_url) and at the end of the ready line.
  c.admin.enabled = true;
  c.admin.listener.address = "127.0.0.1";
  c.admin.listener.port = 0;
  return c;
}

std::string demo_json(const config::Config& c, const DemoPki& pki, const std::string& test_key,
                      std::uint16_t n, const std::string& admin_url,
                      const DemoRegistration& registration, const DemoFrontChannel& front) {
  boost::json::object o;
  o["name"] = "fapigate";
  o["issuer"] = c.authorization_server.issuer;
  o["ca_file"] = pki.ca_cert;
  o["ca_key_file"] = pki.ca_key;
  o["gateway_url"] = url(n + 2);
  o["resources"] = boost::json::object{{"accounts", "GET /accounts"},
                                       {"payments", "POST /domestic-payments"}};
  o["scopes"] = boost::json::object{{"read", "accounts"}, {"write", "payments"}};
  o["partner"] = boost::json::object{{"client_id", "partner-client"},
                                     {"cert_file", pki.partner_cert},
                                     {"key_file", pki.partner_key}};
  o["other_partner"] = boost::json::object{{"client_id", "other-partner"},
                                           {"cert_file", pki.other_partner_cert},
                                           {"key_file", pki.other_partner_key}};
  o["gateway_test_signing_key_file"] = test_key;
  o["user"] = boost::json::object{{"username", front.username}, {"password", front.password}};
  o["login_form"] = boost::json::object{{"username_field", "username"},
                                        {"password_field", "password"}};
  o["partner"].as_object()["redirect_uri"] = "https://partner-client.example/cb";
  o["other_partner"].as_object()["redirect_uri"] = "https://other-partner.example/cb";
  o["fapi1_partner"] = demo_client_json(front.fapi1);
  o["fapi2_partner"] = demo_client_json(front.fapi2);
  o["authorization_endpoint"] = c.authorization_server.issuer + "/authorize";
  o["pushed_authorization_request_endpoint"] = url(n + 1) + "/par";
  o["registration"] = boost::json::object{
      {"initial_access_token", registration.initial_access_token},
      {"registration_endpoint", url(n + 1) + "/register"},
      {"software_statement_signing_key_file", registration.signing_key_file},
      {"software_statement_signing_key_pem", registration.signing_key_pem},
      {"software_statement_issuer", kDemoDirectoryIssuer}};
  // Beyond the contract: where things are, for people and scripts.
  o["token_endpoint"] = url(n + 1) + "/token";
  o["introspection_endpoint"] = url(n + 1) + "/introspect";
  o["discovery_url"] = c.authorization_server.issuer + "/.well-known/openid-configuration";
  o["demo_api_url"] = "http://127.0.0.1:" + std::to_string(n + 3);
  o["admin_url"] = admin_url;
  return boost::json::serialize(o) + "\n";
}

}  // namespace

int run_demo(const DemoOptions& options) {
  if (options.port_base == 0 || options.port_base > 65532) {
    std::cerr << "fapigate demo: --port-base must leave room for four ports (1..65532)\n";
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    std::cerr << "fapigate demo: cannot create " << options.dir << ": " << ec.message() << "\n";
    return 1;
  }
  const std::string dir = absolute_path(options.dir);
  auto pki = ensure_pki(dir);
  if (!pki) {
    std::cerr << "fapigate demo: cannot prepare the PKI in " << dir << "/pki: "
              << pki.error().message() << "\n";
    return 1;
  }
  auto test_key = ensure_gateway_test_key(dir);
  if (!test_key) {
    std::cerr << "fapigate demo: cannot prepare the gateway test key: "
              << test_key.error().message() << "\n";
    return 1;
  }
  const std::uint16_t n = options.port_base;
  config::Config cfg = demo_config(dir, n, *pki, *test_key);
  auto registration = ensure_registration(dir);
  if (!registration) {
    std::cerr << "fapigate demo: cannot prepare the registration keys: "
              << registration.error().message() << "\n";
    return 1;
  }
  {
    auto& reg = cfg.authorization_server.registration;
    reg.enabled = true;
    reg.initial_access_tokens = {crypto::sha256_b64url(registration->initial_access_token)};
    reg.software_statement_required = true;
    reg.software_statement_jwks_file = registration->jwks_file;
    reg.software_statement_issuer = kDemoDirectoryIssuer;
  }
  auto front = ensure_front_channel(dir, *pki);
  if (!front) {
    std::cerr << "fapigate demo: cannot prepare the demo user and clients: "
              << front.error().message() << "\n";
    return 1;
  }
  add_front_channel(cfg.authorization_server, *front);
  cfg.log.level = options.log_level;
  if (auto errors = config::validate(cfg); !errors.empty()) {
    for (const auto& e : errors) {
      std::cerr << "fapigate demo: " << e << "\n";
    }
    return 2;
  }
  core::log::warn("demo_test_key_trusted",
                  {{"file", *test_key},
                   {"note", "the demo gateway trusts this key for the demo issuer; never in production"}});

  const std::string json_path = dir + "/demo.json";
  return run_roles(cfg, [&](const BoundPorts& ports) {
    auto admin = ports.find(kAdmin);
    const std::string admin_url =
        admin == ports.end() ? std::string() : "http://127.0.0.1:" + std::to_string(admin->second);
    if (!write_file(json_path, demo_json(cfg, *pki, *test_key, n, admin_url, *registration, *front))) {
      core::log::error("demo_json_write_failed", {{"file", json_path}});
    }
    std::cout << "ready issuer=" << cfg.authorization_server.issuer
              << " mtls=" << url(n + 1) << " gateway=" << url(n + 2)
              << " api=http://127.0.0.1:" << (n + 3) << " demo_json=" << json_path
              << " admin=" << admin_url << std::endl;
  });
}

}  // namespace fapigate::cli
