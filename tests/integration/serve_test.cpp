// `fapigate serve -c FILE` and `fapigate check` as an operator runs them: a YAML file written by
// hand, a development PKI from `fapigate pki init`, the partner flow through the served roles,
// a restart on the same database, and a broken file refused with the key named.
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/json.hpp"
#include "crypto/x509.hpp"
#include "integration/demo_process.hpp"
#include "support/wait_until.hpp"

namespace fapigate::testing {
namespace {

std::string field(const std::string& json, const char* key) {
  auto o = core::parse_json_object(json, core::JsonLimits{1 << 20, 16});
  return o ? std::string(core::get_string(*o, key).value_or("")) : std::string();
}

class Serve : public ::testing::Test {
protected:
  void SetUp() override {
    auto cert = init_pki(dir_.path());
    ASSERT_TRUE(cert);
    pki_ = dir_.path() + "/pki/";
    partner_dn_ = cert->subject_dn;
    base_ = find_free_port_base();
  }

  std::string config_text() const {
    auto port = [&](int i) { return std::to_string(base_ + i); };
    std::string tls = "      cert_file: pki/server.pem\n      key_file: pki/server.key\n";
    return "log:\n  level: info\n"
           "store:\n  sqlite_path: serve.db\n"
           "authorization_server:\n  enabled: true\n"
           "  issuer: https://localhost:" + port(0) + "\n"
           "  mtls_base_url: https://localhost:" + port(1) + "\n"
           "  front:\n    port: " + port(0) + "\n    tls:\n" + tls +
           "  mtls:\n    port: " + port(1) + "\n    tls:\n" + tls +
           "      client_ca_file: pki/ca.pem\n"
           // These tests introspect a token as the client it was issued to (by default only
           // resource servers may: tests/as IntrospectionPolicy).
           "  introspection_by_token_owner: true\n"
           "  access_token_audiences: [https://localhost:" + port(2) + "]\n"
           "  scopes_supported: [accounts, payments]\n"
           "  clients:\n"
           "    - client_id: partner-client\n"
           "      tls_client_auth_subject_dn: \"" + partner_dn_ + "\"\n"
           "      grant_types: [client_credentials]\n"
           "      scopes: [accounts, payments]\n"
           "gateway:\n  enabled: true\n"
           "  listener:\n    port: " + port(2) + "\n    tls:\n" + tls +
           "      client_ca_file: pki/ca.pem\n"
           "  issuers:\n"
           "    - issuer: https://localhost:" + port(0) + "\n"
           "      jwks_uri: https://localhost:" + port(0) + "/jwks\n"
           "      ca_file: pki/ca.pem\n"
           "      audiences: [https://localhost:" + port(2) + "]\n"
           "  routes:\n"
           "    - name: payments\n      path: /domestic-payments\n      methods: [POST]\n"
           "      scopes: [payments]\n      upstream: http://127.0.0.1:" + port(3) + "\n"
           "demo_api:\n  enabled: true\n  listener:\n    port: " + port(3) + "\n";
  }

  std::string write_config(const std::string& text) const {
    std::string path = dir_.path() + "/fapigate.yaml";
    std::ofstream(path) << text;
    return path;
  }

  std::string tls_args() const {
    return "--cacert " + shell_quote(pki_ + "ca.pem") + " --cert " +
           shell_quote(pki_ + "partner.pem") + " --key " + shell_quote(pki_ + "partner.key") + " ";
  }

  std::string get_token() const {
    auto r = curl(tls_args() + "--data 'grant_type=client_credentials&client_id=partner-client&scope=payments' " +
                  shell_quote("https://localhost:" + std::to_string(base_ + 1) + "/token"));
    EXPECT_EQ(r.status, 200) << r.body;
    return field(r.body, "access_token");
  }

  HttpResult pay(const std::string& token) const {
    return curl(tls_args() + "-X POST -H " + shell_quote("Authorization: Bearer " + token) + " " +
                shell_quote("https://localhost:" + std::to_string(base_ + 2) + "/domestic-payments"));
  }

  HttpResult introspect(const std::string& token) const {
    return curl(tls_args() + "--data client_id=partner-client --data-urlencode " +
                shell_quote("token=" + token) + " " +
                shell_quote("https://localhost:" + std::to_string(base_ + 1) + "/introspect"));
  }

  TempDir dir_;
  std::string pki_;
  std::string partner_dn_;
  std::uint16_t base_ = 0;
};

TEST_F(Serve, CheckAcceptsTheFileAndServeRunsThePartnerFlow) {
  std::string path = write_config(config_text());
  std::string out;
  EXPECT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;

  ServerProcess server({"serve", "-c", path}, dir_.path() + "/serve.log");
  EXPECT_EQ(server.ready_line().rfind("ready", 0), 0u);
  std::string token = get_token();
  auto r = pay(token);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(Serve, TokensAndKeysSurviveARestart) {
  std::string path = write_config(config_text());
  std::string token;
  std::string jwks_before;
  {
    ServerProcess server({"serve", "-c", path}, dir_.path() + "/serve1.log");
    token = get_token();
    jwks_before = curl("--cacert " + shell_quote(pki_ + "ca.pem") + " " +
                       shell_quote("https://localhost:" + std::to_string(base_) + "/jwks")).body;
    ASSERT_EQ(server.stop(), 0);
  }
  ServerProcess again({"serve", "-c", path}, dir_.path() + "/serve2.log");
  auto jwks_after = curl("--cacert " + shell_quote(pki_ + "ca.pem") + " " +
                         shell_quote("https://localhost:" + std::to_string(base_) + "/jwks")).body;
  EXPECT_EQ(jwks_before, jwks_after) << "the signing key is kept in the store";
  auto r = introspect(token);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"active\":true"), std::string::npos) << r.body;
  EXPECT_EQ(pay(token).status, 200) << "a token issued before the restart still works";
}

// The store's upkeep in the real process: a stored token past its exp is removed by the
// background purge (logged as store_purged), and the database file does not keep it.
TEST_F(Serve, ExpiredTokensArePurgedFromTheStore) {
  std::string text = config_text();
  const std::string store_block = "store:\n  sqlite_path: serve.db\n";
  text.replace(text.find(store_block), store_block.size(),
               store_block + "  purge_interval_seconds: 1\n");
  text += "admin:\n  enabled: true\n  listener:\n    port: 0\n";
  const std::string clients = "  clients:\n";
  text.replace(text.find(clients), clients.size(),
               "  access_token_lifetime: 1\n  record_client_credentials_tokens: true\n" +
                   clients);
  std::string path = write_config(text);
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  const std::string log = dir_.path() + "/purge.log";
  ServerProcess server({"serve", "-c", path}, log);
  const std::string token = get_token();
  ASSERT_FALSE(token.empty());
  const bool purged = testing::wait_until(
      [&] { return read_file_text(log).find("\"store_purged\"") != std::string::npos; },
      std::chrono::seconds(10), std::chrono::milliseconds(100));
  EXPECT_TRUE(purged) << read_file_text(log);
  auto r = introspect(token);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"active\":false"), std::string::npos) << r.body;
  // What the upkeep removed is on /metrics, per kind.
  const std::uint16_t admin_port = ready_port(server.ready_line(), "admin");
  ASSERT_NE(admin_port, 0) << server.ready_line();
  auto metrics = curl(shell_quote("http://127.0.0.1:" + std::to_string(admin_port) + "/metrics"));
  ASSERT_EQ(metrics.status, 200);
  const std::string expired = "fapigate_store_purged_rows_total{kind=\"expired\"} ";
  const auto at = metrics.body.find(expired);
  ASSERT_NE(at, std::string::npos) << metrics.body;
  EXPECT_GE(std::stoll(metrics.body.substr(at + expired.size())), 1) << "the token went";
  for (const char* kind : {"replay", "revoked_grants"}) {
    EXPECT_NE(metrics.body.find("fapigate_store_purged_rows_total{kind=\"" + std::string(kind) +
                                "\"}"),
              std::string::npos)
        << kind;
  }
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(Serve, BrokenConfigurationIsRefusedNamingTheKey) {
  std::string text = config_text();
  auto pos = text.find("upstream:");
  text.replace(pos, 9, "upstrem:");
  std::string path = write_config(text);
  std::string out;
  EXPECT_EQ(run_fapigate({"check", "-c", path}, &out), 2);
  EXPECT_NE(out.find("gateway.routes[0].upstrem: unknown key; did you mean 'upstream'?"),
            std::string::npos)
      << out;
  EXPECT_EQ(run_fapigate({"serve", "-c", path}, &out), 2);
  EXPECT_NE(out.find(path), std::string::npos) << "the message names the file: " << out;
}

TEST_F(Serve, MissingConfigurationFileIsAClearError) {
  std::string out;
  EXPECT_EQ(run_fapigate({"serve", "-c", dir_.path() + "/nope.yaml"}, &out), 2);
  EXPECT_NE(out.find("nope.yaml"), std::string::npos) << out;
}

TEST_F(Serve, EveryCommandHasHelp) {
  for (auto cmd : std::vector<std::vector<std::string>>{
           {"--help"}, {"demo", "--help"}, {"serve", "--help"}, {"check", "--help"},
           {"pki", "init", "--help"}, {"client", "--help"}}) {
    std::string out;
    EXPECT_EQ(run_fapigate(cmd, &out), 0) << cmd.front();
    EXPECT_NE(out.find("Usage"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace fapigate::testing
