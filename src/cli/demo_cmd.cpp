// `fapigate demo`: every role on loopback with a generated PKI, per the demo contract in
// ARCHITECTURE.md (ports N..N+3, the `ready` line, DIR/demo.json).
#include <filesystem>
#include <iostream>

#include <boost/json/serialize.hpp>

#include "cli/commands.hpp"
#include "cli/demo_pki.hpp"
#include "cli/files.hpp"
#include "cli/runtime.hpp"
#include "config/loader.hpp"
#include "core/log.hpp"

namespace fapigate::cli {
namespace {

std::string url(std::uint16_t port) { return "https://localhost:" + std::to_string(port); }

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
                      std::uint16_t n, const std::string& admin_url) {
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
    if (!write_file(json_path, demo_json(cfg, *pki, *test_key, n, admin_url))) {
      core::log::error("demo_json_write_failed", {{"file", json_path}});
    }
    std::cout << "ready issuer=" << cfg.authorization_server.issuer
              << " mtls=" << url(n + 1) << " gateway=" << url(n + 2)
              << " api=http://127.0.0.1:" << (n + 3) << " demo_json=" << json_path
              << " admin=" << admin_url << std::endl;
  });
}

}  // namespace fapigate::cli
