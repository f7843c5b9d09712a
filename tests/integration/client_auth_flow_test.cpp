// Client authentication against the real `fapigate serve` over loopback TLS, as a partner runs
// it with curl and openssl: a private_key_jwt client gets a certificate-bound token, its
// assertion is refused when replayed, also after a restart (the jti cache is in the store); a
// self_signed_tls_client_auth client made with `openssl req -x509` authenticates at the AS's
// required_any listener, but the gateway refuses that same certificate.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/x509.hpp"
#include "integration/demo_process.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace fapigate::testing {
namespace {

constexpr const char* kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

std::string field(const std::string& json, const char* key) {
  auto o = core::parse_json_object(json, core::JsonLimits{1 << 20, 16});
  return o ? std::string(core::get_string(*o, key).value_or("")) : std::string();
}

// The cnf.x5t#S256 of a JWT access token (payload decoded, signature not checked here: the
// gateway call checks it).
std::string cnf_of(const std::string& jwt) {
  auto dot1 = jwt.find('.');
  auto dot2 = jwt.find('.', dot1 + 1);
  if (dot1 == std::string::npos || dot2 == std::string::npos) {
    return {};
  }
  auto payload = core::base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload) {
    return {};
  }
  auto o = core::parse_json_object(*payload);
  if (!o) {
    return {};
  }
  const auto* cnf = o->if_contains("cnf");
  if (!cnf || !cnf->is_object()) {
    return {};
  }
  return std::string(core::get_string(cnf->get_object(), "x5t#S256").value_or(""));
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

class ClientAuthFlow : public ::testing::Test {
protected:
  void SetUp() override {
    auto partner = init_pki(dir_.path());
    ASSERT_TRUE(partner);
    pki_ = dir_.path() + "/pki/";
    partner_dn_ = partner->subject_dn;
    partner_x5t_ = crypto::x5t_s256(partner->der);

    // private_key_jwt: the client's key pair; only the public half is registered.
    auto key = crypto::Key::generate(crypto::KeyType::Ec);
    ASSERT_TRUE(key);
    client_key_ = *key;
    jose::Jwks jwks;
    jwks.keys.push_back(jose::make_jwk(client_key_.public_only(), "jwt-key-1", jose::Alg::ES256));
    write(dir_.path() + "/jwt-client.jwks.json", jose::to_json_string(jwks));

    // self_signed_tls_client_auth: a certificate made the way a partner would, with openssl.
    for (const auto& [name, cn] : {std::pair<std::string, std::string>{"self", "self-signed-client"},
                                   {"forged", "partner-client"}}) {
      std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                        "-days 2 -subj " + shell_quote("/CN=" + cn + "/O=fapigate") + " -keyout " +
                        shell_quote(dir_.path() + "/" + name + ".key") + " -out " +
                        shell_quote(dir_.path() + "/" + name + ".pem") + " >/dev/null 2>&1";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    auto self = crypto::parse_certificate_pem(read_file_text(dir_.path() + "/self.pem"));
    ASSERT_TRUE(self);
    self_x5t_ = crypto::x5t_s256(self->der);
    jose::Jwks self_jwks;
    auto jwk = jose::make_jwk(self->public_key, "self-cert", std::nullopt);
    jwk.x5c = {core::base64_encode(self->der)};
    self_jwks.keys.push_back(jwk);
    write(dir_.path() + "/self-signed.jwks.json", jose::to_json_string(self_jwks));

    base_ = find_free_port_base();
  }

  std::string port(int i) const { return std::to_string(base_ + i); }
  std::string issuer() const { return "https://localhost:" + port(0); }

  std::string config_text(const std::string& mtls_client_cert = "required_any") const {
    std::string tls = "      cert_file: pki/server.pem\n      key_file: pki/server.key\n";
    return "log:\n  level: info\n"
           "store:\n  sqlite_path: serve.db\n"
           "authorization_server:\n  enabled: true\n"
           "  issuer: " + issuer() + "\n"
           "  mtls_base_url: https://localhost:" + port(1) + "\n"
           "  front:\n    port: " + port(0) + "\n    tls:\n" + tls +
           "  mtls:\n    port: " + port(1) + "\n    tls:\n" + tls +
           "      client_ca_file: pki/ca.pem\n"
           "      client_cert: " + mtls_client_cert + "\n"
           "  access_token_audiences: [https://localhost:" + port(2) + "]\n"
           "  scopes_supported: [accounts, payments]\n"
           "  clients:\n"
           "    - client_id: partner-client\n"
           "      tls_client_auth_subject_dn: \"" + partner_dn_ + "\"\n"
           "      scopes: [accounts, payments]\n"
           "    - client_id: jwt-client\n"
           "      token_endpoint_auth_method: private_key_jwt\n"
           "      jwks_file: jwt-client.jwks.json\n"
           "      scopes: [payments]\n"
           "    - client_id: self-signed-client\n"
           "      token_endpoint_auth_method: self_signed_tls_client_auth\n"
           "      jwks_file: self-signed.jwks.json\n"
           "      scopes: [payments]\n"
           "gateway:\n  enabled: true\n"
           "  listener:\n    port: " + port(2) + "\n    tls:\n" + tls +
           "      client_ca_file: pki/ca.pem\n"
           "  issuers:\n"
           "    - issuer: " + issuer() + "\n"
           "      jwks_uri: " + issuer() + "/jwks\n"
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

  std::string assertion(std::int64_t now_offset = 0) const {
    const auto now = static_cast<std::int64_t>(std::time(nullptr)) + now_offset;
    boost::json::object c{{"iss", "jwt-client"},
                          {"sub", "jwt-client"},
                          {"aud", issuer()},
                          {"iat", now},
                          {"exp", now + 120},
                          {"jti", crypto::random_token(16)}};
    auto t = jose::sign_compact(boost::json::serialize(c), jose::Alg::ES256, client_key_,
                                "jwt-key-1");
    EXPECT_TRUE(t);
    return t ? *t : std::string();
  }

  std::string cert_args(const std::string& cert, const std::string& key) const {
    return "--cacert " + shell_quote(pki_ + "ca.pem") + " --cert " + shell_quote(cert) +
           " --key " + shell_quote(key) + " ";
  }
  std::string partner_args() const {
    return cert_args(pki_ + "partner.pem", pki_ + "partner.key");
  }
  std::string self_args(const std::string& name = "self") const {
    return cert_args(dir_.path() + "/" + name + ".pem", dir_.path() + "/" + name + ".key");
  }

  HttpResult jwt_token(const std::string& a) const {
    return curl(partner_args() + "--data grant_type=client_credentials --data scope=payments " +
                "--data-urlencode " + shell_quote(std::string("client_assertion_type=") + kJwtBearer) +
                " --data-urlencode " + shell_quote("client_assertion=" + a) + " " +
                shell_quote("https://localhost:" + port(1) + "/token"));
  }

  HttpResult tls_token(const std::string& args, const std::string& client_id) const {
    return curl(args + "--data grant_type=client_credentials --data scope=payments --data " +
                shell_quote("client_id=" + client_id) + " " +
                shell_quote("https://localhost:" + port(1) + "/token"));
  }

  HttpResult pay(const std::string& args, const std::string& token) const {
    return curl(args + "-X POST -H " + shell_quote("Authorization: Bearer " + token) + " " +
                shell_quote("https://localhost:" + port(2) + "/domestic-payments"));
  }

  TempDir dir_;
  std::string pki_;
  std::string partner_dn_, partner_x5t_, self_x5t_;
  crypto::Key client_key_;
  std::uint16_t base_ = 0;
};

TEST_F(ClientAuthFlow, PrivateKeyJwtTokenIsBoundAndItsAssertionIsRefusedAgainAfterARestart) {
  std::string path = write_config(config_text());
  std::string out;
  ASSERT_EQ(run_fapigate({"check", "-c", path}, &out), 0) << out;
  const std::string a = assertion();
  {
    ServerProcess server({"serve", "-c", path}, dir_.path() + "/serve1.log");
    auto r = jwt_token(a);
    ASSERT_EQ(r.status, 200) << r.body;
    std::string token = field(r.body, "access_token");
    // FAPI: sender-constrained to the certificate of the connection, not authenticated by it.
    EXPECT_EQ(cnf_of(token), partner_x5t_);
    EXPECT_EQ(pay(partner_args(), token).status, 200);

    auto replay = jwt_token(a);
    EXPECT_EQ(replay.status, 401) << replay.body;
    EXPECT_EQ(field(replay.body, "error"), "invalid_client");
    ASSERT_EQ(server.stop(), 0);
  }
  ServerProcess again({"serve", "-c", path}, dir_.path() + "/serve2.log");
  auto replay = jwt_token(a);
  EXPECT_EQ(replay.status, 401) << "the jti cache must survive a restart: " << replay.body;
  EXPECT_EQ(field(replay.body, "error"), "invalid_client");
  auto fresh = jwt_token(assertion());
  EXPECT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(again.stop(), 0);
}

TEST_F(ClientAuthFlow, PrivateKeyJwtClientWithoutAssertionOrWithABadOneIsInvalidClient) {
  ServerProcess server({"serve", "-c", write_config(config_text())}, dir_.path() + "/serve.log");
  auto r = tls_token(partner_args(), "jwt-client");  // N-55: a certificate is not enough
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(field(r.body, "error"), "invalid_client");
  auto expired = jwt_token(assertion(-300));  // N-57
  EXPECT_EQ(expired.status, 401) << expired.body;
  EXPECT_EQ(field(expired.body, "error"), "invalid_client");
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(ClientAuthFlow, SelfSignedCertificateAuthenticatesAtTheAsButNotAtTheGateway) {
  ServerProcess server({"serve", "-c", write_config(config_text())}, dir_.path() + "/serve.log");
  auto r = tls_token(self_args(), "self-signed-client");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string token = field(r.body, "access_token");
  EXPECT_EQ(cnf_of(token), self_x5t_);

  // The gateway requires a CA-verified certificate: the same self-signed one is refused, at
  // the handshake (curl fails) or with a 401, never forwarded.
  auto g = pay(self_args(), token);
  EXPECT_NE(g.status, 200) << g.body;
  EXPECT_TRUE(g.curl_exit != 0 || g.status == 401) << "curl " << g.curl_exit << " " << g.status;

  // The required_any listener does not weaken tls_client_auth: a self-signed certificate with
  // the partner's subject DN is not the partner.
  auto forged = tls_token(self_args("forged"), "partner-client");
  EXPECT_EQ(forged.status, 401) << forged.body;
  EXPECT_EQ(field(forged.body, "error"), "invalid_client");
  // Nor is an unregistered self-signed certificate the self-signed client.
  auto other = tls_token(self_args("forged"), "self-signed-client");
  EXPECT_EQ(other.status, 401) << other.body;
  // The CA-issued partner certificate still works for the partner.
  EXPECT_EQ(tls_token(partner_args(), "partner-client").status, 200);
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(ClientAuthFlow, DiscoveryListsTheMethodsAndAlgorithms) {
  ServerProcess server({"serve", "-c", write_config(config_text())}, dir_.path() + "/serve.log");
  auto r = curl("--cacert " + shell_quote(pki_ + "ca.pem") + " " +
                shell_quote(issuer() + "/.well-known/openid-configuration"));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("token_endpoint_auth_methods_supported":["private_key_jwt","tls_client_auth","self_signed_tls_client_auth"])"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("token_endpoint_auth_signing_alg_values_supported":["PS256","ES256","EdDSA"])"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(ClientAuthFlow, SelfSignedClientsNeedARequiredAnyListener) {
  std::string path = write_config(config_text("required"));
  std::string out;
  EXPECT_EQ(run_fapigate({"check", "-c", path}, &out), 2);
  EXPECT_NE(out.find("authorization_server.mtls.tls.client_cert: must be 'required_any' for "
                     "self_signed_tls_client_auth clients"),
            std::string::npos)
      << out;
}

}  // namespace
}  // namespace fapigate::testing
