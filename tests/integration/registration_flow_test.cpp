// Dynamic client registration (RFC 7591/7592) against a real `fapigate demo`, with curl as the
// partner: a tls_client_auth client registered with a software statement signed by the demo
// directory key, then used (client_credentials with a certificate minted by the demo CA),
// updated and deleted; and the refusals of the Brazil DCR negative tests (bad or no mTLS,
// invalid jwks, invalid or missing redirect URI, missing or forged software statement,
// invalid registration access token).
#include <ctime>
#include <fstream>

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "crypto/digest.hpp"
#include "crypto/key.hpp"
#include "crypto/pki.hpp"
#include "crypto/x509.hpp"
#include "integration/demo_process.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace fapigate::testing {
namespace {

namespace json = boost::json;

json::object json_of(const std::string& text) {
  auto o = core::parse_json_object(text, core::JsonLimits{1 << 20, 16});
  return o ? std::move(*o) : json::object{};
}

std::string field(const json::object& o, const char* key) {
  return std::string(core::get_string(o, key).value_or(""));
}

struct Minted {
  std::string cert_file, key_file, subject_dn;
};

class RegistrationFlow : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    demo_ = new DemoProcess();
    const auto* reg = core::get_object(demo_->demo_json(), "registration");
    ASSERT_NE(reg, nullptr) << "demo.json has no registration";
    initial_token_ = field(*reg, "initial_access_token");
    directory_issuer_ = field(*reg, "software_statement_issuer");
    auto jwk = jose::parse_jwk(read_file_text(field(*reg, "software_statement_signing_key_file")));
    ASSERT_TRUE(jwk && jwk->key.is_private());
    directory_key_ = new jose::Jwk(*jwk);
    // Partners' certificates from the demo CA, as a directory-onboarded TPP would hold them.
    auto ca = crypto::load_ca(read_file_text(demo_->str("ca_file")),
                              read_file_text(demo_->str("ca_key_file")));
    ASSERT_TRUE(ca) << ca.error().message();
    tpp_ = new Minted(mint(*ca, "dcr-tpp-" + crypto::random_token(6), "DCR TPP Ltd"));
    intruder_ = new Minted(mint(*ca, "dcr-intruder", "Intruder Ltd"));
  }
  static void TearDownTestSuite() {
    delete demo_;
    delete directory_key_;
    delete tpp_;
    delete intruder_;
    demo_ = nullptr;
  }

  static Minted mint(const crypto::IssuedCertificate& ca, const std::string& cn,
                     const std::string& org) {
    crypto::LeafOptions o;
    o.common_name = cn;
    o.organization = org;
    auto issued = crypto::issue_client_certificate(ca, o);
    EXPECT_TRUE(issued);
    Minted m;
    m.cert_file = demo_->dir() + "/" + cn + ".pem";
    m.key_file = demo_->dir() + "/" + cn + ".key";
    std::ofstream(m.cert_file) << issued->cert_pem;
    std::ofstream(m.key_file) << issued->key_pem;
    auto parsed = crypto::parse_certificate_pem(issued->cert_pem);
    EXPECT_TRUE(parsed);
    m.subject_dn = parsed ? parsed->subject_dn : "";
    return m;
  }

  static std::string url(int offset, const std::string& path) {
    return "https://localhost:" + std::to_string(demo_->port_base() + offset) + path;
  }
  static std::string tls_args(const Minted* who) {
    std::string args = "--cacert " + shell_quote(demo_->str("ca_file")) + " ";
    if (who) {
      args += "--cert " + shell_quote(who->cert_file) + " --key " + shell_quote(who->key_file) +
              " ";
    }
    return args;
  }

  static std::string statement(json::object extra = {}, const crypto::Key* key = nullptr) {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    json::object c{{"iss", directory_issuer_},
                   {"iat", now},
                   {"exp", now + 300},
                   {"jti", crypto::random_token(12)},
                   {"software_id", "dcr-integration"},
                   {"software_client_name", "DCR integration test"},
                   {"software_redirect_uris", json::array{"https://tpp.example/cb"}}};
    for (auto& [k, v] : extra) {
      if (v.is_null()) {
        c.erase(k);
      } else {
        c[k] = v;
      }
    }
    const auto alg = key ? jose::Alg::ES256 : directory_key_->alg.value_or(jose::Alg::PS256);
    auto t = jose::sign_compact(json::serialize(c), alg, key ? *key : directory_key_->key,
                                directory_key_->kid);
    EXPECT_TRUE(t);
    return t ? *t : std::string();
  }

  static json::object metadata(const Minted& who) {
    return json::object{{"token_endpoint_auth_method", "tls_client_auth"},
                        {"tls_client_auth_subject_dn", who.subject_dn},
                        {"grant_types", json::array{"client_credentials", "authorization_code"}},
                        {"redirect_uris", json::array{"https://tpp.example/cb"}},
                        {"scope", "accounts payments"},
                        {"software_statement", statement()}};
  }

  static HttpResult send_json(const Minted* who, const std::string& method, const std::string& u,
                              const std::string& bearer, const json::object* body,
                              int port_offset = 1) {
    std::string args = tls_args(who) + "-X " + method + " ";
    if (!bearer.empty()) {
      args += "-H " + shell_quote("Authorization: Bearer " + bearer) + " ";
    }
    if (body) {
      args += "-H 'Content-Type: application/json' --data-binary " +
              shell_quote(json::serialize(*body)) + " ";
    }
    return curl(args + shell_quote(u.rfind("https://", 0) == 0 ? u : url(port_offset, u)));
  }

  static HttpResult register_client(const json::object& body, const Minted* who = nullptr,
                                    const std::string& bearer = initial_token_) {
    return send_json(who ? who : tpp_, "POST", "/register", bearer, &body);
  }

  static HttpResult token_request(const Minted& who, const std::string& client_id,
                                  const std::string& scope) {
    return curl(tls_args(&who) + "--data grant_type=client_credentials --data " +
                shell_quote("client_id=" + client_id) + " --data " + shell_quote("scope=" + scope) +
                " " + shell_quote(url(1, "/token")));
  }

  static void expect_error(const HttpResult& r, int status, const std::string& error) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(field(json_of(r.body), "error"), error) << r.body;
  }

  static inline DemoProcess* demo_ = nullptr;
  static inline jose::Jwk* directory_key_ = nullptr;
  static inline Minted* tpp_ = nullptr;
  static inline Minted* intruder_ = nullptr;
  static inline std::string initial_token_;
  static inline std::string directory_issuer_;
};

TEST_F(RegistrationFlow, DiscoveryNamesTheRegistrationEndpoint) {
  auto r = curl(tls_args(nullptr) + shell_quote(url(0, "/.well-known/openid-configuration")));
  ASSERT_EQ(r.status, 200);
  auto m = json_of(r.body);
  EXPECT_EQ(field(m, "registration_endpoint"), url(1, "/register"));
  const auto* reg = core::get_object(demo_->demo_json(), "registration");
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(field(*reg, "registration_endpoint"), url(1, "/register"));
}

// brazildcr-happy-flow, -update-client-config, -client-delete.
TEST_F(RegistrationFlow, RegisterUseUpdateDelete) {
  auto reg = register_client(metadata(*tpp_));
  ASSERT_EQ(reg.status, 201) << reg.body;
  EXPECT_EQ(reg.header("Cache-Control"), "no-store");
  auto o = json_of(reg.body);
  const std::string id = field(o, "client_id");
  std::string rat = field(o, "registration_access_token");
  const std::string uri = field(o, "registration_client_uri");
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(uri, url(1, "/register/" + id));
  EXPECT_EQ(field(o, "software_id"), "dcr-integration");

  // The new client gets a certificate-bound token with its own certificate, not another's.
  auto t = token_request(*tpp_, id, "payments");
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_FALSE(field(json_of(t.body), "access_token").empty());
  expect_error(token_request(*intruder_, id, "payments"), 401, "invalid_client");

  auto read = send_json(tpp_, "GET", uri, rat, nullptr);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(field(json_of(read.body), "client_id"), id);

  // RFC 7592 §2.2: full replacement, the token rotates.
  auto m = metadata(*tpp_);
  m["client_id"] = id;
  m["scope"] = "accounts";
  auto put = send_json(tpp_, "PUT", uri, rat, &m);
  ASSERT_EQ(put.status, 200) << put.body;
  auto updated = json_of(put.body);
  EXPECT_EQ(field(updated, "scope"), "accounts");
  const std::string old_rat = rat;
  rat = field(updated, "registration_access_token");
  EXPECT_NE(rat, old_rat);
  expect_error(send_json(tpp_, "GET", uri, old_rat, nullptr), 401, "invalid_token");
  expect_error(token_request(*tpp_, id, "payments"), 400, "invalid_scope");
  EXPECT_EQ(token_request(*tpp_, id, "accounts").status, 200);

  auto del = send_json(tpp_, "DELETE", uri, rat, nullptr);
  EXPECT_EQ(del.status, 204) << del.body;
  expect_error(token_request(*tpp_, id, "accounts"), 401, "invalid_client");
  expect_error(send_json(tpp_, "GET", uri, rat, nullptr), 401, "invalid_token");
}

TEST_F(RegistrationFlow, InitialAccessTokenRequired) {
  auto r = register_client(metadata(*tpp_), tpp_, "");
  expect_error(r, 401, "invalid_token");
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer error=\"invalid_token\"");
  expect_error(register_client(metadata(*tpp_), tpp_, "wrong-" + initial_token_), 401,
               "invalid_token");
}

// brazil-dcr-no-mtls: the mTLS listener refuses the handshake; the front one the request.
TEST_F(RegistrationFlow, NoMtls) {
  auto body = metadata(*tpp_);
  auto r = curl(tls_args(nullptr) + "-X POST -H 'Content-Type: application/json' -H " +
                shell_quote("Authorization: Bearer " + initial_token_) + " --data-binary " +
                shell_quote(json::serialize(body)) + " " + shell_quote(url(1, "/register")));
  EXPECT_TRUE(r.curl_exit != 0 || r.status == 401) << r.status << " " << r.body;
  EXPECT_NE(r.status, 201);
  auto front = curl(tls_args(nullptr) + "-X POST -H 'Content-Type: application/json' -H " +
                    shell_quote("Authorization: Bearer " + initial_token_) + " --data-binary " +
                    shell_quote(json::serialize(body)) + " " + shell_quote(url(0, "/register")));
  expect_error(front, 401, "invalid_client");
}

// brazil-dcr-bad-mtls: a trusted certificate that is not the one being registered.
TEST_F(RegistrationFlow, BadMtls) {
  expect_error(register_client(metadata(*tpp_), intruder_), 400, "invalid_client_metadata");
}

// brazil-dcr-invalid-jwks-by-value, -invalid-jwks-uri.
TEST_F(RegistrationFlow, InvalidJwks) {
  auto m = metadata(*tpp_);
  m.erase("tls_client_auth_subject_dn");
  m["token_endpoint_auth_method"] = "private_key_jwt";
  std::string n(128, '\xc5');  // a 1024-bit modulus (F1-19, F2-33)
  m["jwks"] = json::object{
      {"keys", json::array{json::object{
                   {"kty", "RSA"}, {"e", "AQAB"}, {"n", core::base64url_encode(n)}}}}};
  expect_error(register_client(m), 400, "invalid_client_metadata");
  m.erase("jwks");
  m["jwks_uri"] = "https://tpp.example/jwks";
  expect_error(register_client(m), 400, "invalid_client_metadata");
}

// brazil-dcr-invalid-redirect-uri, -no-redirect-uri.
TEST_F(RegistrationFlow, InvalidOrMissingRedirectUri) {
  auto m = metadata(*tpp_);
  m["redirect_uris"] = json::array{"https://evil.example/cb"};  // not in the statement
  expect_error(register_client(m), 400, "invalid_redirect_uri");
  m["redirect_uris"] = json::array{"http://tpp.example/cb"};
  m["software_statement"] = statement(
      json::object{{"software_redirect_uris", json::array{"http://tpp.example/cb"}}});
  expect_error(register_client(m), 400, "invalid_redirect_uri");
  m.erase("redirect_uris");
  m["software_statement"] = statement(json::object{{"software_redirect_uris", nullptr}});
  expect_error(register_client(m), 400, "invalid_redirect_uri");
}

// brazil-dcr-no-software-statement, -invalid-software-statement-signature.
TEST_F(RegistrationFlow, SoftwareStatementRequiredAndVerified) {
  auto m = metadata(*tpp_);
  m.erase("software_statement");
  expect_error(register_client(m), 400, "invalid_software_statement");
  // A genuine statement with its signature altered.
  std::string forged = statement();
  const auto sig = forged.rfind('.') + 5;
  forged[sig] = forged[sig] == 'A' ? 'B' : 'A';
  m["software_statement"] = forged;
  expect_error(register_client(m), 400, "invalid_software_statement");
  // Signed by a key the directory JWKS does not hold.
  auto other = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(other);
  auto foreign = jose::sign_compact(R"({"iss":"x","iat":1})", jose::Alg::ES256, *other,
                                    "another-directory");
  ASSERT_TRUE(foreign);
  m["software_statement"] = *foreign;
  expect_error(register_client(m), 400, "unapproved_software_statement");
}

// brazildcr-invalid-registration-access-token.
TEST_F(RegistrationFlow, InvalidRegistrationAccessToken) {
  auto reg = register_client(metadata(*tpp_));
  ASSERT_EQ(reg.status, 201) << reg.body;
  auto o = json_of(reg.body);
  const std::string uri = field(o, "registration_client_uri");
  auto m = metadata(*tpp_);
  m["client_id"] = field(o, "client_id");
  for (const char* method : {"GET", "PUT", "DELETE"}) {
    auto r = send_json(tpp_, method, uri, "not-a-registration-token",
                       std::string(method) == "PUT" ? &m : nullptr);
    expect_error(r, 401, "invalid_token");
    EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer error=\"invalid_token\"") << method;
  }
  EXPECT_EQ(send_json(tpp_, "DELETE", uri, field(o, "registration_access_token"), nullptr).status,
            204);
}

}  // namespace
}  // namespace fapigate::testing
