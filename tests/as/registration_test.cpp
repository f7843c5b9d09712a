// Dynamic client registration (RFC 7591 §3) and its management (RFC 7592 §2) through the AS
// handler: the initial and registration access tokens, the certificate policy, software
// statements, read / update / delete, and a registered client at the token endpoint.
#include "as/as_fixture.hpp"

#include <fstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace fapigate::as::test {
namespace {

namespace json = boost::json;

constexpr const char* kInitialToken = "initial-access-token-for-tests-0123456789";
constexpr const char* kDirectory = "https://directory.example";

class RegistrationEndpoint : public AsTest {
protected:
  static void SetUpTestSuite() {
    AsTest::SetUpTestSuite();
    if (directory_key_) {
      return;
    }
    auto k = crypto::Key::generate(crypto::KeyType::Ec);
    ASSERT_TRUE(k);
    directory_key_ = new crypto::Key(*k);
    auto o = crypto::Key::generate(crypto::KeyType::Ec);
    ASSERT_TRUE(o);
    foreign_key_ = new crypto::Key(*o);
  }

  void SetUp() override {
    AsTest::SetUp();
    jwks_path_ = path_ + ".directory.jwks.json";
    jose::Jwks jwks;
    jwks.keys.push_back(jose::make_jwk(directory_key_->public_only(), "dir-1", jose::Alg::ES256));
    std::ofstream(jwks_path_) << jose::to_json_string(jwks);
  }

  void TearDown() override {
    AsTest::TearDown();
    std::error_code ec;
    std::filesystem::remove(jwks_path_, ec);
  }

  config::AuthorizationServer settings(bool statement_required = false) const {
    auto s = default_settings();
    s.registration.enabled = true;
    s.registration.initial_access_tokens = {crypto::sha256_b64url(kInitialToken)};
    s.registration.software_statement_required = statement_required;
    s.registration.software_statement_jwks_file = jwks_path_;
    s.registration.software_statement_issuer = kDirectory;
    s.registration.software_statement_max_age = 3600;
    return s;
  }

  static json::object metadata() {
    return json::parse(R"({
      "token_endpoint_auth_method": "tls_client_auth",
      "tls_client_auth_subject_dn": "CN=partner-client,O=fapigate",
      "grant_types": ["client_credentials", "authorization_code"],
      "redirect_uris": ["https://tpp.example/cb"],
      "scope": "accounts payments",
      "client_name": "Registered TPP"
    })").as_object();
  }

  std::string statement(json::object claims = {}, const crypto::Key* key = nullptr,
                        const char* kid = "dir-1") const {
    json::object c{{"iss", kDirectory}, {"iat", kNow - 5}, {"exp", kNow + 300},
                   {"jti", crypto::random_token(8)}, {"software_id", "sw-42"}};
    for (auto& [k, v] : claims) {
      c[k] = v;
    }
    auto t = jose::sign_compact(json::serialize(c), jose::Alg::ES256,
                                key ? *key : *directory_key_, kid);
    EXPECT_TRUE(t);
    return t ? *t : std::string();
  }

  static http::Request json_request(std::string method, std::string path, const json::object& body,
                                    std::shared_ptr<const http::PeerCertificate> cert,
                                    std::string bearer) {
    auto r = post(std::move(path), json::serialize(body), std::move(cert), "application/json");
    r.method = std::move(method);
    if (!bearer.empty()) {
      r.headers.add("Authorization", "Bearer " + bearer);
    }
    return r;
  }

  http::Response register_client(const json::object& body,
                                  std::shared_ptr<const http::PeerCertificate> cert,
                                  std::string bearer = kInitialToken) {
    return call(json_request("POST", "/register", body, std::move(cert), std::move(bearer)));
  }

  http::Response manage(std::string method, const std::string& client_id, std::string bearer,
                        const json::object& body = {},
                        std::shared_ptr<const http::PeerCertificate> cert = nullptr) {
    auto r = json_request(std::move(method), "/register/" + client_id, body,
                          cert ? std::move(cert) : partner_, std::move(bearer));
    if (r.method != "PUT") {
      r.body.clear();
      r.headers.remove("Content-Type");
    }
    return call(std::move(r));
  }

  struct Registered {
    std::string client_id, token, uri;
    json::object body;
  };

  Registered register_ok(const json::object& body = metadata()) {
    auto r = register_client(body, partner_);
    EXPECT_EQ(r.status, 201) << r.body;
    auto o = json_of(r.body);
    return {str(o, "client_id"), str(o, "registration_access_token"),
            str(o, "registration_client_uri"), o};
  }

  static void expect_invalid_token(const http::Response& r) {
    expect_oauth_error(r, 401, "invalid_token");
    EXPECT_EQ(r.headers.get("WWW-Authenticate").value_or(""), "Bearer error=\"invalid_token\"");
  }

  std::string jwks_path_;
  static inline crypto::Key* directory_key_ = nullptr;
  static inline crypto::Key* foreign_key_ = nullptr;
};

TEST_F(RegistrationEndpoint, RegistersATlsClientAuthClient) {
  start(settings());
  auto reg = register_ok();
  const auto& o = reg.body;
  EXPECT_EQ(reg.client_id.size(), 22u);  // 128 random bits, base64url
  EXPECT_GE(reg.token.size(), 43u);      // 256 random bits
  EXPECT_EQ(reg.uri, std::string(kMtlsBase) + "/register/" + reg.client_id);
  EXPECT_EQ(o.at("client_id_issued_at").as_int64(), kNow);
  EXPECT_EQ(str(o, "token_endpoint_auth_method"), "tls_client_auth");
  EXPECT_EQ(str(o, "tls_client_auth_subject_dn"), "CN=partner-client,O=fapigate");
  EXPECT_EQ(str(o, "scope"), "accounts payments");
  EXPECT_EQ(str(o, "client_name"), "Registered TPP");
  EXPECT_EQ(json::serialize(o.at("redirect_uris")), R"(["https://tpp.example/cb"])");

  // Stored, with the registration access token only as its hash.
  auto stored = store_->find_client(reg.client_id);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->scopes, (std::vector<std::string>{"accounts", "payments"}));
  EXPECT_FALSE(store_->find_token(reg.token).value().has_value());
  auto rat = store_->find_token(crypto::sha256_b64url(reg.token));
  ASSERT_TRUE(rat && *rat);
  EXPECT_EQ((*rat)->kind, "registration_access_token");
  EXPECT_EQ((*rat)->client_id, reg.client_id);

  // The new client gets a certificate-bound token.
  auto t = token("grant_type=client_credentials&scope=accounts&client_id=" + reg.client_id,
                 partner_);
  EXPECT_EQ(t.status, 200) << t.body;
}

TEST_F(RegistrationEndpoint, ResponseIsNotCached) {
  start(settings());
  auto r = register_client(metadata(), partner_);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json");
}

TEST_F(RegistrationEndpoint, DisabledByDefault) {
  start();
  auto r = register_client(metadata(), partner_);
  EXPECT_EQ(r.status, 404);
  auto m = json_of(call(get("/.well-known/openid-configuration")).body);
  EXPECT_FALSE(m.contains("registration_endpoint"));
}

TEST_F(RegistrationEndpoint, DiscoveryNamesTheMtlsEndpoint) {
  start(settings());
  auto m = json_of(call(get("/.well-known/openid-configuration")).body);
  EXPECT_EQ(str(m, "registration_endpoint"), std::string(kMtlsBase) + "/register");
  const auto* aliases = core::get_object(m, "mtls_endpoint_aliases");
  ASSERT_NE(aliases, nullptr);
  EXPECT_EQ(str(*aliases, "registration_endpoint"), std::string(kMtlsBase) + "/register");
}

TEST_F(RegistrationEndpoint, InitialAccessTokenMissingOrWrong) {
  start(settings());
  expect_invalid_token(register_client(metadata(), partner_, ""));
  expect_invalid_token(register_client(metadata(), partner_, "not-the-token"));
  auto req = json_request("POST", "/register", metadata(), partner_, "");
  req.headers.add("Authorization", std::string("Basic ") + kInitialToken);
  expect_invalid_token(call(std::move(req)));
  EXPECT_TRUE(store_->list_clients().value().size() == default_settings().clients.size());
}

TEST_F(RegistrationEndpoint, InitialAccessTokensFromAFile) {
  auto s = settings();
  s.registration.initial_access_tokens.clear();
  s.registration.initial_access_tokens_file = path_ + ".iat";
  std::ofstream(s.registration.initial_access_tokens_file)
      << "# initial access tokens\n\n" << crypto::sha256_b64url("from-file") << "\n";
  start(s);
  EXPECT_EQ(register_client(metadata(), partner_, "from-file").status, 201);
  expect_invalid_token(register_client(metadata(), partner_));
  std::filesystem::remove(s.registration.initial_access_tokens_file);
}

TEST_F(RegistrationEndpoint, MalformedTokenFileStopsTheStart) {
  auto s = settings();
  s.registration.initial_access_tokens_file = path_ + ".iat";
  std::ofstream(s.registration.initial_access_tokens_file) << "the-token-in-clear\n";
  EXPECT_FALSE(AsService::create(s, *store_, clock_));
  std::filesystem::remove(s.registration.initial_access_tokens_file);
}

TEST_F(RegistrationEndpoint, WithoutClientCertificateIsRefused) {
  start(settings());
  expect_oauth_error(register_client(metadata(), nullptr), 401, "invalid_client");
}

TEST_F(RegistrationEndpoint, UntrustedCertificateIsRefused) {
  start(settings());
  auto untrusted = std::make_shared<http::PeerCertificate>(*partner_);
  untrusted->chain_verified = false;
  expect_oauth_error(register_client(metadata(), untrusted), 401, "invalid_client");
}

TEST_F(RegistrationEndpoint, CertificateMustMatchTheRegisteredSubject) {
  start(settings());
  // brazil-dcr-bad-mtls: a trusted certificate of someone else.
  expect_oauth_error(register_client(metadata(), other_), 400, "invalid_client_metadata");
}

TEST_F(RegistrationEndpoint, SelfSignedClientMustPresentARegisteredCertificate) {
  start(settings());
  auto m = metadata();
  m.erase("tls_client_auth_subject_dn");
  m["token_endpoint_auth_method"] = "self_signed_tls_client_auth";
  auto jwk = jose::make_jwk(pki_->partner.key.public_only(), "cert-1", std::nullopt);
  jwk.x5c = {core::base64_encode(pki_->partner.der)};
  m["jwks"] = json::object{{"keys", json::array{jose::to_json(jwk)}}};
  expect_oauth_error(register_client(m, other_), 400, "invalid_client_metadata");
  auto unverified = std::make_shared<http::PeerCertificate>(*partner_);
  unverified->chain_verified = false;  // self-signed certificates never chain
  EXPECT_EQ(register_client(m, unverified).status, 201);
}

TEST_F(RegistrationEndpoint, PrivateKeyJwtClient) {
  start(settings());
  auto m = metadata();
  m.erase("tls_client_auth_subject_dn");
  m["token_endpoint_auth_method"] = "private_key_jwt";
  auto key = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(key);
  m["jwks"] = json::object{
      {"keys", json::array{jose::to_json(jose::make_jwk(key->public_only(), "k1",
                                                        jose::Alg::ES256))}}};
  auto r = register_client(m, other_);  // any CA-issued transport certificate
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(RegistrationEndpoint, BodyMustBeJson) {
  start(settings());
  auto req = json_request("POST", "/register", metadata(), partner_, kInitialToken);
  req.headers.set("Content-Type", "application/x-www-form-urlencoded");
  expect_oauth_error(call(req), 400, "invalid_request");
  req.headers.set("Content-Type", "application/json; charset=utf-8");
  req.body = "[1,2,3]";
  expect_oauth_error(call(req), 400, "invalid_client_metadata");
  req.body = std::string(100, '{');
  expect_oauth_error(call(req), 400, "invalid_client_metadata");
}

TEST_F(RegistrationEndpoint, InvalidMetadataErrors) {
  start(settings());
  auto m = metadata();
  m["redirect_uris"] = json::array{"http://tpp.example/cb"};
  expect_oauth_error(register_client(m, partner_), 400, "invalid_redirect_uri");
  m = metadata();
  m.erase("redirect_uris");
  expect_oauth_error(register_client(m, partner_), 400, "invalid_redirect_uri");
  m = metadata();
  m["token_endpoint_auth_method"] = "client_secret_basic";
  expect_oauth_error(register_client(m, partner_), 400, "invalid_client_metadata");
  m = metadata();
  m["jwks_uri"] = "https://tpp.example/jwks";
  expect_oauth_error(register_client(m, partner_), 400, "invalid_client_metadata");
  EXPECT_EQ(store_->list_clients().value().size(), default_settings().clients.size());
}

TEST_F(RegistrationEndpoint, SoftwareStatementRequiredWhenConfigured) {
  start(settings(true));
  expect_oauth_error(register_client(metadata(), partner_), 400, "invalid_software_statement");
  auto m = metadata();
  m["software_statement"] = statement();
  auto r = register_client(m, partner_);
  ASSERT_EQ(r.status, 201) << r.body;
  auto o = json_of(r.body);
  // RFC 7591 §3.2.1: returned unmodified; its claims registered.
  EXPECT_EQ(str(o, "software_statement"), str(m, "software_statement"));
  EXPECT_EQ(str(o, "software_id"), "sw-42");
}

TEST_F(RegistrationEndpoint, SoftwareStatementClaimsTakePrecedence) {
  start(settings());
  auto m = metadata();
  m["software_statement"] = statement(json::object{
      {"scope", "accounts"},
      {"software_redirect_uris", json::array{"https://tpp.example/cb"}}});
  auto r = register_client(m, partner_);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(str(json_of(r.body), "scope"), "accounts");

  m["redirect_uris"] = json::array{"https://elsewhere.example/cb"};
  expect_oauth_error(register_client(m, partner_), 400, "invalid_redirect_uri");
}

TEST_F(RegistrationEndpoint, BadSoftwareStatements) {
  start(settings(true));
  auto m = metadata();
  m["software_statement"] = statement({}, foreign_key_, "dir-1");  // bad signature
  expect_oauth_error(register_client(m, partner_), 400, "invalid_software_statement");
  m["software_statement"] = statement(json::object{{"iss", "https://other.example"}});
  expect_oauth_error(register_client(m, partner_), 400, "invalid_software_statement");
  m["software_statement"] = statement(json::object{{"exp", kNow - 100}});
  expect_oauth_error(register_client(m, partner_), 400, "invalid_software_statement");
  m["software_statement"] = statement({}, foreign_key_, "foreign-directory");
  expect_oauth_error(register_client(m, partner_), 400, "unapproved_software_statement");
  m["software_statement"] = 12;
  expect_oauth_error(register_client(m, partner_), 400, "invalid_software_statement");
}

TEST_F(RegistrationEndpoint, ReadWithTheRegistrationAccessToken) {
  start(settings());
  auto reg = register_ok();
  auto r = manage("GET", reg.client_id, reg.token);
  ASSERT_EQ(r.status, 200) << r.body;
  auto o = json_of(r.body);
  EXPECT_EQ(str(o, "client_id"), reg.client_id);
  EXPECT_EQ(str(o, "registration_access_token"), reg.token);
  EXPECT_EQ(str(o, "registration_client_uri"), reg.uri);
  EXPECT_EQ(json::serialize(o), json::serialize(reg.body));
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
}

TEST_F(RegistrationEndpoint, ManagementRefusesBadTokens) {
  start(settings());
  auto a = register_ok();
  auto b = register_ok();
  for (const char* method : {"GET", "PUT", "DELETE"}) {
    SCOPED_TRACE(method);
    expect_invalid_token(manage(method, a.client_id, ""));
    expect_invalid_token(manage(method, a.client_id, "wrong-token"));
    expect_invalid_token(manage(method, a.client_id, b.token));  // the other client's token
    expect_invalid_token(manage(method, a.client_id, kInitialToken));
    expect_invalid_token(manage(method, "no-such-client", a.token));
  }
  // An access token of the client is not a registration access token.
  auto at = issue_partner_token();
  expect_invalid_token(manage("GET", "partner-client", at));
  EXPECT_EQ(manage("GET", a.client_id, a.token).status, 200);
}

TEST_F(RegistrationEndpoint, ManagementNeedsMutualTls) {
  start(settings());
  auto reg = register_ok();
  auto req = json_request("GET", "/register/" + reg.client_id, {}, nullptr, reg.token);
  expect_oauth_error(call(std::move(req)), 401, "invalid_client");
}

TEST_F(RegistrationEndpoint, MethodsNotAllowed) {
  start(settings());
  auto reg = register_ok();
  auto r = call(json_request("GET", "/register", {}, partner_, kInitialToken));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.get("Allow").value_or(""), "POST");
  r = call(json_request("POST", "/register/" + reg.client_id, {}, partner_, reg.token));
  EXPECT_EQ(r.status, 405);
}

TEST_F(RegistrationEndpoint, UpdateReplacesMetadataAndRotatesTheToken) {
  start(settings());
  auto reg = register_ok();
  auto m = metadata();
  m["client_id"] = reg.client_id;
  m["scope"] = "accounts";
  m.erase("client_name");
  auto r = manage("PUT", reg.client_id, reg.token, m);
  ASSERT_EQ(r.status, 200) << r.body;
  auto o = json_of(r.body);
  EXPECT_EQ(str(o, "scope"), "accounts");
  EXPECT_FALSE(o.contains("client_name"));  // a full replacement (RFC 7592 §2.2)
  EXPECT_EQ(o.at("client_id_issued_at").as_int64(), kNow);
  const std::string rotated = str(o, "registration_access_token");
  EXPECT_NE(rotated, reg.token);
  expect_invalid_token(manage("GET", reg.client_id, reg.token));
  auto read = manage("GET", reg.client_id, rotated);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(str(json_of(read.body), "scope"), "accounts");
  auto stored = store_->find_client(reg.client_id);
  EXPECT_EQ((*stored)->scopes, std::vector<std::string>{"accounts"});
  // The narrower scope holds at the token endpoint.
  auto t = token("grant_type=client_credentials&scope=payments&client_id=" + reg.client_id,
                 partner_);
  expect_oauth_error(t, 400, "invalid_scope");
}

TEST_F(RegistrationEndpoint, UpdateRefusalsLeaveTheClientUnchanged) {
  start(settings());
  auto reg = register_ok();
  auto m = metadata();
  m["client_id"] = "someone-else";
  expect_oauth_error(manage("PUT", reg.client_id, reg.token, m), 400, "invalid_request");
  m.erase("client_id");
  expect_oauth_error(manage("PUT", reg.client_id, reg.token, m), 400, "invalid_request");
  m["client_id"] = reg.client_id;
  for (const char* server_member :
       {"registration_access_token", "registration_client_uri", "client_id_issued_at"}) {
    auto with = m;
    with[server_member] = "x";
    expect_oauth_error(manage("PUT", reg.client_id, reg.token, with), 400, "invalid_request");
  }
  auto secret = m;
  secret["client_secret"] = "s3cret";
  expect_oauth_error(manage("PUT", reg.client_id, reg.token, secret), 400,
                     "invalid_client_metadata");
  auto bad_redirect = m;
  bad_redirect["redirect_uris"] = json::array{"https://tpp.example/cb#frag"};
  expect_oauth_error(manage("PUT", reg.client_id, reg.token, bad_redirect), 400,
                     "invalid_redirect_uri");
  // Moving the client onto another certificate identity needs that certificate.
  auto moved = m;
  moved["tls_client_auth_subject_dn"] = "CN=other-partner,O=fapigate";
  expect_oauth_error(manage("PUT", reg.client_id, reg.token, moved), 400,
                     "invalid_client_metadata");
  auto r = manage("GET", reg.client_id, reg.token);  // the token was not rotated either
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::serialize(json_of(r.body)), json::serialize(reg.body));
}

TEST_F(RegistrationEndpoint, DeleteRemovesTheClientAndItsTokens) {
  auto s = settings();
  s.record_client_credentials_tokens = true;  // so there is an access-token row to cascade
  start(s);
  auto reg = register_ok();
  auto t = token("grant_type=client_credentials&scope=accounts&client_id=" + reg.client_id,
                 partner_);
  ASSERT_EQ(t.status, 200) << t.body;
  const std::string at_hash = crypto::sha256_b64url(str(json_of(t.body), "access_token"));
  ASSERT_TRUE(store_->find_token(at_hash).value().has_value());

  auto r = manage("DELETE", reg.client_id, reg.token);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_FALSE(store_->find_client(reg.client_id).value().has_value());
  // ON DELETE CASCADE: the access token and the registration access token rows are gone.
  EXPECT_FALSE(store_->find_token(at_hash).value().has_value());
  EXPECT_FALSE(store_->find_token(crypto::sha256_b64url(reg.token)).value().has_value());
  expect_invalid_token(manage("GET", reg.client_id, reg.token));
  expect_invalid_token(manage("DELETE", reg.client_id, reg.token));
  expect_oauth_error(token("grant_type=client_credentials&client_id=" + reg.client_id, partner_),
                     401, "invalid_client");
}

TEST_F(RegistrationEndpoint, DeletedClientsSelfContainedTokenIsInactive) {
  // A client_credentials JWT has no row to cascade (issued_tokens.hpp): it dies with the
  // registration all the same, for every resource server that introspects it.
  auto s = settings();
  s.resources.push_back({kApiAudience, std::nullopt, {"other-partner"}});
  start(s);
  auto reg = register_ok();
  auto t = token("grant_type=client_credentials&scope=accounts&client_id=" + reg.client_id,
                 partner_);
  ASSERT_EQ(t.status, 200) << t.body;
  const std::string at = str(json_of(t.body), "access_token");
  auto rs_introspects = [&] {
    return call(post("/introspect", "client_id=other-partner&token=" + at, other_)).body;
  };
  ASSERT_NE(rs_introspects().find(R"("active":true)"), std::string::npos) << rs_introspects();
  EXPECT_EQ(manage("DELETE", reg.client_id, reg.token).status, 204);
  EXPECT_EQ(rs_introspects(), R"({"active":false})");
}

}  // namespace
}  // namespace fapigate::as::test
