// Signing keys as an operator handles them: `fapigate serve` with a key-encryption key in the
// environment, `fapigate keys rotate -c` run beside the live server, the new key published by
// the running server after its refresh interval and taking over without restart, tokens issued
// before still active, and no private key in clear in the database (read with the sqlite3
// CLI that scripts/install-deps installs).
#include <cstdlib>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"
#include "integration/demo_process.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace fapigate::testing {
namespace {

std::string field(const std::string& json, const char* key) {
  auto o = core::parse_json_object(json, core::JsonLimits{1 << 20, 16});
  return o ? std::string(core::get_string(*o, key).value_or("")) : std::string();
}

// stdout of a shell command (the sqlite3 CLI).
std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    return out;
  }
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
    out.append(buf, n);
  }
  ::pclose(p);
  return out;
}

class KeysFlow : public ::testing::Test {
protected:
  void SetUp() override {
    auto cert = init_pki(dir_.path());
    ASSERT_TRUE(cert);
    pki_ = dir_.path() + "/pki/";
    partner_dn_ = cert->subject_dn;
    base_ = find_free_port_base();
    kek_ = core::base64_encode(crypto::random_bytes(32));
  }
  void TearDown() override { ::unsetenv("FAPIGATE_KEK"); }

  void use_kek(const std::string& value) { ::setenv("FAPIGATE_KEK", value.c_str(), 1); }

  std::string write_config(std::int64_t publish_ahead) const {
    auto port = [&](int i) { return std::to_string(base_ + i); };
    std::string tls = "      cert_file: pki/server.pem\n      key_file: pki/server.key\n";
    std::string text =
        "log:\n  level: info\n"
        "store:\n  sqlite_path: keys.db\n"
        "authorization_server:\n  enabled: true\n"
        "  issuer: https://localhost:" + port(0) + "\n"
        "  mtls_base_url: https://localhost:" + port(1) + "\n"
        "  front:\n    port: " + port(0) + "\n    tls:\n" + tls +
        "  mtls:\n    port: " + port(1) + "\n    tls:\n" + tls +
        "      client_ca_file: pki/ca.pem\n"
        // These tests introspect a token as the client it was issued to (by default only
        // resource servers may: tests/as IntrospectionPolicy).
        "  introspection_by_token_owner: true\n"
        "  signing_alg: ES256\n"
        "  key_refresh_interval: 1\n"
        "  key_publish_ahead: " + std::to_string(publish_ahead) + "\n"
        "  access_token_audiences: [https://api.example]\n"
        "  scopes_supported: [accounts, payments]\n"
        "  clients:\n"
        "    - client_id: partner-client\n"
        "      tls_client_auth_subject_dn: \"" + partner_dn_ + "\"\n"
        "      grant_types: [client_credentials]\n"
        "      scopes: [accounts, payments]\n";
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

  bool active(const std::string& token) const {
    auto r = curl(tls_args() + "--data client_id=partner-client --data-urlencode " +
                  shell_quote("token=" + token) + " " +
                  shell_quote("https://localhost:" + std::to_string(base_ + 1) + "/introspect"));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body.find("\"active\":true") != std::string::npos;
  }

  // The kids of the configured alg's keys (ES256, which signs access tokens); with
  // `all_algs`, also the other algs' keys the AS keeps for ID tokens.
  std::vector<std::string> jwks_kids(bool all_algs = false) const {
    auto r = curl("--cacert " + shell_quote(pki_ + "ca.pem") + " " +
                  shell_quote("https://localhost:" + std::to_string(base_) + "/jwks"));
    std::vector<std::string> kids;
    auto set = jose::parse_jwks(r.body);
    EXPECT_TRUE(set) << r.body;
    if (set) {
      for (const auto& k : set->keys) {
        EXPECT_FALSE(k.key.is_private());
        EXPECT_EQ(k.use, "sig");
        if (all_algs || (k.alg && *k.alg == jose::Alg::ES256)) {
          kids.push_back(k.kid);
        }
      }
    }
    return kids;
  }

  // Polls the served JWKS until it has `n` keys (or gives up after `seconds`).
  std::vector<std::string> wait_for_jwks_size(std::size_t n, int seconds) const {
    std::vector<std::string> kids;
    for (int i = 0; i < seconds * 4; ++i) {
      kids = jwks_kids();
      if (kids.size() == n) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return kids;
  }

  static std::string kid_of(const std::string& token) {
    auto p = jose::parse_compact(token, jose::kAllAlgs);
    return p ? p->kid : "";
  }

  std::string db() const { return dir_.path() + "/keys.db"; }

  std::string key_rows() const {
    return shell("sqlite3 " + shell_quote(db()) +
                 " 'SELECT kid || \" \" || private_pem FROM signing_keys' 2>&1");
  }

  std::string new_kid_from(const std::string& rotate_output) const {
    auto p = rotate_output.find("new key ");
    if (p == std::string::npos) {
      return "";
    }
    p += 8;
    return rotate_output.substr(p, rotate_output.find(' ', p) - p);
  }

  TempDir dir_;
  std::string pki_;
  std::string partner_dn_;
  std::uint16_t base_ = 0;
  std::string kek_;
};

TEST_F(KeysFlow, RotateWhileServingPublishesTheNewKeyAndKeepsOldTokensValid) {
  use_kek(kek_);
  const std::string path = write_config(600);
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/serve.log");
  const std::string before = get_token();
  const std::string old_kid = kid_of(before);
  ASSERT_FALSE(old_kid.empty());
  ASSERT_EQ(jwks_kids(), std::vector<std::string>{old_kid});
  EXPECT_EQ(jwks_kids(true).size(), 3u) << "a key per alg, created at first start";

  std::string out;
  ASSERT_EQ(run_fapigate({"keys", "rotate", "-c", path}, &out), 0) << out;
  const std::string new_kid = new_kid_from(out);
  ASSERT_FALSE(new_kid.empty()) << out;
  EXPECT_NE(new_kid, old_kid);
  EXPECT_EQ(out.find("unencrypted"), std::string::npos) << out;

  auto kids = wait_for_jwks_size(2, 10);
  ASSERT_EQ(kids.size(), 2u) << "the running server re-reads the store";
  // PS256, ES256 and EdDSA (ID tokens per client) each got their successor.
  EXPECT_EQ(jwks_kids(true).size(), 6u);
  EXPECT_NE(std::find(kids.begin(), kids.end(), old_kid), kids.end());
  EXPECT_NE(std::find(kids.begin(), kids.end(), new_kid), kids.end());
  EXPECT_EQ(kid_of(get_token()), old_kid) << "the new key is published, not used yet";
  EXPECT_TRUE(active(before));

  // At rest: every row sealed, no PEM in the database file.
  const std::string rows = key_rows();
  EXPECT_NE(rows.find(new_kid + " fgk1:"), std::string::npos) << rows;
  EXPECT_NE(rows.find(old_kid + " fgk1:"), std::string::npos) << rows;
  EXPECT_EQ(rows.find("BEGIN"), std::string::npos) << rows;
  EXPECT_EQ(rows.find("PRIVATE KEY"), std::string::npos) << rows;

  std::string list;
  ASSERT_EQ(run_fapigate({"keys", "list", "-c", path}, &list), 0) << list;
  EXPECT_NE(list.find(old_kid), std::string::npos) << list;
  EXPECT_NE(list.find("signing"), std::string::npos) << list;
  EXPECT_NE(list.find("pending"), std::string::npos) << list;
  EXPECT_EQ(list.find("CLEAR"), std::string::npos) << list;
  EXPECT_EQ(list.find("fgk1:"), std::string::npos) << "no key material printed: " << list;
  EXPECT_EQ(server.stop(), 0);
  const std::string log = read_file_text(dir_.path() + "/serve.log");
  EXPECT_EQ(log.find("signing_keys_unencrypted"), std::string::npos) << log;
  EXPECT_EQ(log.find(kek_), std::string::npos) << "the KEK never reaches the log";
}

TEST_F(KeysFlow, TheNewKeyTakesOverWithoutRestart) {
  use_kek(kek_);
  const std::string path = write_config(2);
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/serve.log");
  const std::string before = get_token();
  std::string out;
  ASSERT_EQ(run_fapigate({"keys", "rotate", "-c", path}, &out), 0) << out;
  const std::string new_kid = new_kid_from(out);
  ASSERT_FALSE(new_kid.empty()) << out;
  std::string after;
  for (int i = 0; i < 40 && kid_of(after) != new_kid; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    after = get_token();
  }
  EXPECT_EQ(kid_of(after), new_kid) << "signs with the new key once its not_before passed";
  EXPECT_TRUE(active(after));
  EXPECT_TRUE(active(before)) << "the outgoing key's tokens still introspect active";
  EXPECT_EQ(jwks_kids().size(), 2u);
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(KeysFlow, WithoutAKekTheServerSaysSoAndKeysAreInClear) {
  const std::string path = write_config(600);
  {
    ServerProcess server({"serve", "-c", path}, dir_.path() + "/serve.log");
    get_token();
    EXPECT_EQ(server.stop(), 0);
  }
  const std::string log = read_file_text(dir_.path() + "/serve.log");
  EXPECT_NE(log.find("signing_keys_unencrypted"), std::string::npos) << log;
  EXPECT_NE(log.find("FAPIGATE_KEK"), std::string::npos) << log;
  EXPECT_NE(key_rows().find("BEGIN PRIVATE KEY"), std::string::npos);

  // Setting a KEK later encrypts the keys found in clear at the next start.
  use_kek(kek_);
  {
    ServerProcess server({"serve", "-c", path}, dir_.path() + "/serve2.log");
    EXPECT_EQ(server.stop(), 0);
  }
  const std::string rows = key_rows();
  EXPECT_EQ(rows.find("BEGIN"), std::string::npos) << rows;
  EXPECT_NE(rows.find(" fgk1:"), std::string::npos) << rows;
}

TEST_F(KeysFlow, AWrongKekRefusesToStartAndNamesTheKid) {
  use_kek(kek_);
  const std::string path = write_config(600);
  std::string kid;
  {
    ServerProcess server({"serve", "-c", path}, dir_.path() + "/serve.log");
    kid = kid_of(get_token());
    EXPECT_EQ(server.stop(), 0);
  }
  ASSERT_FALSE(kid.empty());
  use_kek(core::base64_encode(crypto::random_bytes(32)));
  std::string out;
  EXPECT_EQ(run_fapigate({"serve", "-c", path}, &out), 1) << out;
  EXPECT_NE(out.find("signing_key_decrypt_failed"), std::string::npos) << out;
  EXPECT_NE(out.find(kid), std::string::npos) << out;
  EXPECT_EQ(out.find("PRIVATE KEY"), std::string::npos) << out;
  // `keys rotate` with that KEK refuses too, and writes nothing.
  EXPECT_EQ(run_fapigate({"keys", "rotate", "-c", path}, &out), 1) << out;
  ::unsetenv("FAPIGATE_KEK");
  EXPECT_EQ(run_fapigate({"keys", "rotate", "-c", path}, &out), 1) << out;
  EXPECT_NE(out.find("no key-encryption key"), std::string::npos) << out;
  EXPECT_EQ(shell("sqlite3 " + shell_quote(db()) + " 'SELECT count(*) FROM signing_keys'"),
            "3\n") << "one key per alg, no replacement written";
}

TEST_F(KeysFlow, KekFileReadableByOthersIsRefused) {
  const std::string kek_path = dir_.path() + "/kek";
  std::ofstream(kek_path) << kek_ << "\n";
  ::chmod(kek_path.c_str(), 0644);
  std::string text = read_file_text(write_config(600));
  text.replace(text.find("  signing_alg"), 0, "  key_encryption_key_file: kek\n");
  const std::string path = dir_.path() + "/fapigate.yaml";
  std::ofstream(path) << text;
  std::string out;
  EXPECT_EQ(run_fapigate({"serve", "-c", path}, &out), 1) << out;
  EXPECT_NE(out.find("kek_file_unsafe"), std::string::npos) << out;
  EXPECT_EQ(out.find(kek_), std::string::npos) << out;
  ::chmod(kek_path.c_str(), 0600);
  ServerProcess server({"serve", "-c", path}, dir_.path() + "/serve.log");
  EXPECT_FALSE(get_token().empty());
  EXPECT_EQ(server.stop(), 0);
  EXPECT_EQ(key_rows().find("BEGIN"), std::string::npos);
}

TEST_F(KeysFlow, KeysCommandsHaveHelpAndNeedAConfig) {
  std::string out;
  for (auto cmd : std::vector<std::vector<std::string>>{
           {"keys", "--help"}, {"keys", "rotate", "--help"}, {"keys", "list", "--help"}}) {
    EXPECT_EQ(run_fapigate(cmd, &out), 0) << cmd.back();
    EXPECT_NE(out.find("Usage"), std::string::npos) << out;
  }
  EXPECT_NE(run_fapigate({"keys", "rotate"}, &out), 0);
  EXPECT_EQ(run_fapigate({"keys", "rotate", "-c", dir_.path() + "/nope.yaml"}, &out), 2);
  EXPECT_NE(out.find("nope.yaml"), std::string::npos) << out;
}

}  // namespace
}  // namespace fapigate::testing
