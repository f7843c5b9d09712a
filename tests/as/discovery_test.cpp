// Discovery metadata (RFC 8414 §2, RFC 8705 §3.3 and §5) and the JWKS (RFC 7517, RFC 7638).
#include "as/as_fixture.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>

namespace fapigate::as::test {
namespace {

class Discovery : public AsTest {
protected:
  void SetUp() override {
    AsTest::SetUp();
    start();
  }
  boost::json::object metadata(const char* path = "/.well-known/openid-configuration") {
    auto r = call(get(path));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json");
    return json_of(r.body);
  }
};

TEST_F(Discovery, PublishesIssuerEndpointsAndMtlsAliases) {
  auto m = metadata();
  EXPECT_EQ(str(m, "issuer"), kIssuer);
  EXPECT_EQ(str(m, "token_endpoint"), std::string(kIssuer) + "/token");
  EXPECT_EQ(str(m, "introspection_endpoint"), std::string(kIssuer) + "/introspect");
  EXPECT_EQ(str(m, "jwks_uri"), std::string(kIssuer) + "/jwks");
  const auto* aliases = core::get_object(m, "mtls_endpoint_aliases");
  ASSERT_NE(aliases, nullptr);
  EXPECT_EQ(str(*aliases, "token_endpoint"), std::string(kMtlsBase) + "/token");
  EXPECT_EQ(str(*aliases, "introspection_endpoint"), std::string(kMtlsBase) + "/introspect");
}

TEST_F(Discovery, AdvertisesCertificateBoundTokensAndOnlyFapiClientAuth) {
  auto m = metadata();
  const auto* bound = m.if_contains("tls_client_certificate_bound_access_tokens");
  ASSERT_NE(bound, nullptr);
  ASSERT_TRUE(bound->is_bool());
  EXPECT_TRUE(bound->as_bool());
  // FAPI 2.0 SP §5.3.2.1-6: exactly these, at every endpoint that authenticates clients.
  for (const char* endpoint : {"token_endpoint", "introspection_endpoint"}) {
    const std::string e = endpoint;
    EXPECT_EQ(boost::json::serialize(m.at(e + "_auth_methods_supported")),
              R"(["private_key_jwt","tls_client_auth","self_signed_tls_client_auth"])")
        << e;
    EXPECT_EQ(boost::json::serialize(m.at(e + "_auth_signing_alg_values_supported")),
              R"(["PS256","ES256","EdDSA"])")
        << e;
  }
  EXPECT_EQ(boost::json::serialize(m.at("grant_types_supported")),
            R"(["authorization_code","client_credentials","refresh_token"])");
  EXPECT_EQ(boost::json::serialize(m.at("scopes_supported")), R"(["openid","accounts","payments"])");
  EXPECT_EQ(boost::json::serialize(m.at("access_token_signing_alg_values_supported")),
            R"(["PS256"])");
}

TEST_F(Discovery, ListsOpenidOnceWithTheConfiguredScopes) {
  auto m = metadata();
  const auto* scopes = m.if_contains("scopes_supported");
  ASSERT_TRUE(scopes && scopes->is_array());
  std::vector<std::string> got;
  for (const auto& v : scopes->get_array()) {
    got.emplace_back(v.as_string());
  }
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front(), "openid");
  EXPECT_EQ(std::count(got.begin(), got.end(), "openid"), 1);
  EXPECT_NE(std::find(got.begin(), got.end(), "accounts"), got.end());
  EXPECT_EQ(boost::json::serialize(m.at("acr_values_supported")), R"(["urn:openbanking:psd2:ca"])");
}

TEST_F(Discovery, AdvertisesNothingItDoesNotImplement) {
  auto m = metadata();
  // (authorization_endpoint and pushed_authorization_request_endpoint exist since the code flow.)
  for (const char* absent : {"registration_endpoint", "userinfo_endpoint",
                             "dpop_signing_alg_values_supported"}) {
    EXPECT_EQ(m.if_contains(absent), nullptr) << absent;
  }
}

TEST_F(Discovery, AdvertisesIdTokenEncryptionWithoutRsa15) {  // F1-13, OIDC Discovery §3
  auto m = metadata();
  auto strings = [&](const char* key) { return strings_of(m, key); };
  EXPECT_EQ(strings("id_token_encryption_alg_values_supported"),
            (std::vector<std::string>{"RSA-OAEP-256", "RSA-OAEP"}));
  EXPECT_EQ(strings("id_token_encryption_enc_values_supported"),
            (std::vector<std::string>{"A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM"}));
  // Only ID tokens are encrypted: no JARM, introspection or request-object encryption offered.
  for (const char* absent : {"authorization_encryption_alg_values_supported",
                             "introspection_encryption_alg_values_supported",
                             "request_object_encryption_alg_values_supported",
                             "userinfo_encryption_alg_values_supported"}) {
    EXPECT_EQ(m.if_contains(absent), nullptr) << absent;
  }
}

TEST_F(Discovery, OAuthMetadataPathServesTheSameDocument) {
  EXPECT_EQ(boost::json::serialize(metadata("/.well-known/oauth-authorization-server")),
            boost::json::serialize(metadata()));
}

TEST_F(Discovery, MtlsAliasesFallBackToTheIssuer) {
  auto s = default_settings();
  s.mtls_base_url.clear();
  start(s);
  auto m = metadata();
  EXPECT_EQ(str(*core::get_object(m, "mtls_endpoint_aliases"), "token_endpoint"),
            std::string(kIssuer) + "/token");
}

TEST_F(Discovery, JwksHasPublicKeysOnly) {
  auto r = call(get("/jwks"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/jwk-set+json");
  auto doc = json_of(r.body);
  const auto* keys = doc.if_contains("keys");
  ASSERT_NE(keys, nullptr);
  ASSERT_TRUE(keys->is_array());
  // One key per alg: PS256 signs access tokens, all three sign ID tokens per client.
  ASSERT_EQ(keys->as_array().size(), 3u);
  for (const auto& k : keys->as_array()) {
    ASSERT_TRUE(k.is_object());
    for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
      EXPECT_EQ(k.as_object().if_contains(priv), nullptr) << priv << " in " << r.body;
    }
  }
  auto jwks = jose::parse_jwks(r.body);
  ASSERT_TRUE(jwks);
  ASSERT_EQ(jwks->keys.size(), 3u);
  for (const auto& k : jwks->keys) {
    EXPECT_FALSE(k.key.is_private());
    EXPECT_EQ(k.use, "sig");
  }
}

// RFC 7638 §3.2 canonical JSON, built here from the served members (not with jose::thumbprint).
std::string rfc7638(const boost::json::object& k) {
  const std::string kty = str(k, "kty");
  std::string canonical;
  if (kty == "RSA") {
    canonical = R"({"e":")" + str(k, "e") + R"(","kty":"RSA","n":")" + str(k, "n") + R"("})";
  } else if (kty == "EC") {
    canonical = R"({"crv":")" + str(k, "crv") + R"(","kty":"EC","x":")" + str(k, "x") +
                R"(","y":")" + str(k, "y") + R"("})";
  } else {
    canonical = R"({"crv":")" + str(k, "crv") + R"(","kty":"OKP","x":")" + str(k, "x") + R"("})";
  }
  return crypto::sha256_b64url(canonical);
}

class DiscoveryAlg : public AsTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(DiscoveryAlg, GeneratedKeyKidIsItsRfc7638Thumbprint) {
  // A fresh store: the AS generates the key itself.
  store_.reset();
  remove_db(path_);
  open_store();
  auto s = default_settings();
  s.signing_alg = GetParam();
  start(s);
  auto doc = json_of(call(get("/jwks")).body);
  const auto& keys = doc.at("keys").as_array();
  ASSERT_EQ(keys.size(), 3u);  // a key per alg
  const boost::json::object* found = nullptr;
  for (const auto& key : keys) {
    EXPECT_EQ(str(key.as_object(), "kid"), rfc7638(key.as_object()));
    if (str(key.as_object(), "alg") == GetParam()) {
      found = &key.as_object();
    }
  }
  ASSERT_NE(found, nullptr);
  const auto& k = *found;
  // The issued token names that kid.
  auto body = json_of(token("grant_type=client_credentials&client_id=partner-client", partner_).body);
  EXPECT_EQ(jose::parse_compact(str(body, "access_token"), jose::kAllAlgs)->kid, str(k, "kid"));
}

INSTANTIATE_TEST_SUITE_P(Algs, DiscoveryAlg, ::testing::Values("ES256", "EdDSA"));

TEST_F(Discovery, PreseededRsaKidIsItsRfc7638Thumbprint) {
  auto doc = json_of(call(get("/jwks")).body);
  const auto& k = doc.at("keys").as_array().at(0).as_object();
  EXPECT_EQ(str(k, "kty"), "RSA");
  EXPECT_EQ(str(k, "kid"), rfc7638(k));
}

TEST_F(AsTest, RetiredKeyIsNoLongerPublished) {
  store::SigningKeyRecord old;
  auto k = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(k);
  old.kid = "retired-ec";
  old.alg = "ES256";
  old.private_pem = k->private_pem();
  old.created_at = kNow - 10'000;
  old.not_before = kNow - 10'000;
  old.retire_after = kNow - 1;
  ASSERT_TRUE(store_->put_signing_key(old));
  start();
  auto jwks = jose::parse_jwks(call(get("/jwks")).body);
  ASSERT_TRUE(jwks);
  EXPECT_EQ(jwks->find("retired-ec"), nullptr);
  EXPECT_NE(jwks->find(pki_->rsa_kid), nullptr);
}

}  // namespace
}  // namespace fapigate::as::test
