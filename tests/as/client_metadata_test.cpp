// The dynamic-registration metadata policy (RFC 7591 §2, fapi-requirements R-02/R-05/R-06,
// N-106/N-107) and software statements (RFC 7591 §2.3, N-108), without HTTP: each invalid case
// with its exact error code.
#include <limits>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "as/checks/client_metadata.hpp"
#include "as/checks/software_statement.hpp"
#include "as/client_policy.hpp"
#include "core/base64url.hpp"
#include "core/json.hpp"
#include "crypto/key.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace fapigate::as {
namespace {

namespace json = boost::json;

config::AuthorizationServer as_settings() {
  config::AuthorizationServer s;
  s.issuer = "https://as.example";
  s.signing_alg = "PS256";
  s.scopes_supported = {"accounts", "payments"};
  return s;
}

json::object base() {
  return json::parse(R"({
    "token_endpoint_auth_method": "tls_client_auth",
    "tls_client_auth_subject_dn": "CN=tpp,O=Example",
    "grant_types": ["authorization_code", "client_credentials"],
    "redirect_uris": ["https://tpp.example/cb"],
    "scope": "accounts"
  })").as_object();
}

std::string code_of(const OAuthResult<RegisteredMetadata>& r) {
  return r ? std::string("ok") : std::string(errc_name(r.error().code));
}

// An EC P-256 public JWK (fresh key), as a JSON object.
json::object ec_public_jwk(std::string kid = "k1") {
  auto key = crypto::Key::generate(crypto::KeyType::Ec);
  EXPECT_TRUE(key);
  return jose::to_json(jose::make_jwk(key->public_only(), std::move(kid), jose::Alg::ES256));
}

json::object jwks_of(json::object key) {
  return json::object{{"keys", json::array{std::move(key)}}};
}

TEST(ClientMetadata, AcceptsTlsClientAuthAndFillsDefaults) {
  auto in = base();
  in["client_name"] = "Example TPP";
  in["some_extension_we_do_not_know"] = "dropped";
  auto r = validate_client_metadata(in, as_settings());
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->record.token_endpoint_auth_method, "tls_client_auth");
  EXPECT_EQ(r->record.tls_client_auth_subject_dn, "CN=tpp,O=Example");
  EXPECT_EQ(r->record.scopes, std::vector<std::string>{"accounts"});
  EXPECT_EQ(r->record.redirect_uris, std::vector<std::string>{"https://tpp.example/cb"});
  EXPECT_EQ(json::serialize(r->metadata.at("response_types")), R"(["code"])");
  EXPECT_EQ(r->metadata.at("fapi_profile").as_string(), "fapi2");
  EXPECT_EQ(r->metadata.at("tls_client_certificate_bound_access_tokens").as_bool(), true);
  EXPECT_EQ(r->metadata.at("require_pushed_authorization_requests").as_bool(), true);
  EXPECT_EQ(r->metadata.at("refresh_token_rotation").as_bool(), false);
  EXPECT_EQ(r->metadata.at("client_name").as_string(), "Example TPP");
  EXPECT_FALSE(r->metadata.contains("some_extension_we_do_not_know"));  // RFC 7591 §2
  // What client_policy() reads is in the stored metadata.
  auto stored = core::parse_json_object(r->record.metadata_json);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->at("fapi_profile").as_string(), "fapi2");
}

TEST(ClientMetadata, ScopeDefaultsToEverySupportedScope) {
  auto in = base();
  in.erase("scope");
  auto r = validate_client_metadata(in, as_settings());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->record.scopes, (std::vector<std::string>{"accounts", "payments"}));
  EXPECT_EQ(r->metadata.at("scope").as_string(), "accounts payments");
}

TEST(ClientMetadata, ClientCredentialsOnlyNeedsNoRedirectUris) {
  auto in = base();
  in.erase("redirect_uris");
  in["grant_types"] = json::array{"client_credentials"};
  auto r = validate_client_metadata(in, as_settings());
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_TRUE(r->record.redirect_uris.empty());
  EXPECT_EQ(json::serialize(r->metadata.at("response_types")), "[]");
}

TEST(ClientMetadata, AcceptsPrivateKeyJwtWithKeysByValue) {
  auto in = base();
  in.erase("tls_client_auth_subject_dn");
  in["token_endpoint_auth_method"] = "private_key_jwt";
  in["token_endpoint_auth_signing_alg"] = "ES256";
  in["jwks"] = jwks_of(ec_public_jwk());
  auto r = validate_client_metadata(in, as_settings());
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_FALSE(r->record.jwks_json.empty());
  EXPECT_TRUE(r->metadata.contains("jwks"));
}

TEST(ClientMetadata, AcceptsFapi1AdvancedHybridWithRotation) {
  auto in = base();
  in["fapi_profile"] = "fapi1_advanced";
  in["response_types"] = json::array{"code id_token"};
  in["grant_types"] = json::array{"authorization_code", "refresh_token"};
  in["refresh_token_rotation"] = true;
  in["request_object_signing_alg"] = "PS256";
  in["id_token_signed_response_alg"] = "PS256";
  auto r = validate_client_metadata(in, as_settings());
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->metadata.at("refresh_token_rotation").as_bool(), true);
}

TEST(ClientMetadata, EncryptionKeysInJwksAreHeldToSizeRulesOnly) {
  auto in = base();
  auto enc = ec_public_jwk("enc-1");
  enc["use"] = "enc";
  enc["alg"] = "ECDH-ES";
  in["jwks"] = json::object{{"keys", json::array{ec_public_jwk(), enc}}};
  EXPECT_EQ(code_of(validate_client_metadata(in, as_settings())), "ok");
}

// Regression (tests/fuzz/regressions/dcr_metadata/jwks_nested_member_unusable_at_auth): a key
// with a nested extension member passed the per-key checks, but the stored JWKS is parsed at
// authentication time with a depth bound of 4, so the client could never authenticate.
TEST(ClientMetadata, RefusesJwksThatClientAuthenticationCouldNotParse) {
  auto in = base();
  in.erase("tls_client_auth_subject_dn");
  in["token_endpoint_auth_method"] = "private_key_jwt";
  auto key = ec_public_jwk();
  key["ext"] = json::object{{"a", json::array{1}}};
  in["jwks"] = jwks_of(key);
  auto r = validate_client_metadata(in, as_settings());
  ASSERT_FALSE(r);
  EXPECT_EQ(errc_name(r.error().code), "invalid_client_metadata");
  EXPECT_EQ(r.error().description, "jwks must not nest members deeper than a key's x5c array");
  // One level less nesting (an array member) is what parse_client_jwks reads: accepted.
  key["ext"] = json::array{1};
  in["jwks"] = jwks_of(key);
  EXPECT_EQ(code_of(validate_client_metadata(in, as_settings())), "ok");
}

// Regression (tests/fuzz/regressions/dcr_metadata/private_key_jwt_enc_keys_only): encryption
// keys only leave a private_key_jwt client nothing to verify its assertions with.
TEST(ClientMetadata, RefusesPrivateKeyJwtWithoutASigningKey) {
  auto in = base();
  in.erase("tls_client_auth_subject_dn");
  in["token_endpoint_auth_method"] = "private_key_jwt";
  auto enc = ec_public_jwk("enc-1");
  enc["use"] = "enc";
  in["jwks"] = jwks_of(enc);
  auto r = validate_client_metadata(in, as_settings());
  ASSERT_FALSE(r);
  EXPECT_EQ(errc_name(r.error().code), "invalid_client_metadata");
  EXPECT_EQ(r.error().description,
            "jwks must hold a signing key (use sig or no use) for private_key_jwt");
}

// Regression (tests/fuzz/regressions/dcr_metadata/fapi1_metadata_over_64k_lost_profile): a
// 62 KB body whose numbers serialise longer (0.11 -> 1.1E-1) is stored as more than 64 KiB of
// metadata, which client_policy() read with the default 64 KiB bound and so silently treated
// the fapi1_advanced client as a fapi2 one.
TEST(ClientMetadata, LargeStoredMetadataKeepsItsProfile) {
  auto in = base();
  in.erase("tls_client_auth_subject_dn");
  in["token_endpoint_auth_method"] = "private_key_jwt";
  in["fapi_profile"] = "fapi1_advanced";
  in["request_object_signing_alg"] = "ES256";
  auto key = ec_public_jwk();
  json::array ext;
  for (int i = 0; i < 8700; ++i) {
    ext.emplace_back(0.11);
  }
  key["ext"] = std::move(ext);
  in["jwks"] = jwks_of(key);
  json::array uris;
  for (int i = 0; i < 20; ++i) {
    uris.emplace_back("https://tpp.example/" + std::string(900, 'c') + std::to_string(i));
  }
  in["redirect_uris"] = std::move(uris);
  // The body as a client writes it: 0.11, which Boost.JSON serialises as 1.1E-1.
  std::string body = json::serialize(in);
  for (auto pos = body.find("1.1E-1"); pos != std::string::npos; pos = body.find("1.1E-1", pos)) {
    body.replace(pos, 6, "0.11");
  }
  ASSERT_LT(body.size(), 64U * 1024);
  auto parsed = core::parse_json_object(body, core::JsonLimits{64 * 1024, 8});  // the endpoint's
  ASSERT_TRUE(parsed);
  auto r = validate_client_metadata(*parsed, as_settings());
  ASSERT_TRUE(r) << r.error().description;
  ASSERT_GT(r->record.metadata_json.size(), 64U * 1024);
  const ClientPolicy policy = client_policy(r->record, as_settings());
  EXPECT_EQ(policy.profile, FapiProfile::Fapi1Advanced);
  EXPECT_EQ(policy.request_object_signing_alg, "ES256");
}

// An RSA encryption key as a client registers it (RFC 7517 §4.2 "use": "enc").
json::object rsa_encryption_jwk(std::string alg) {
  static const crypto::Key key = *crypto::Key::generate(crypto::KeyType::Rsa);
  auto jwk = jose::to_json(jose::make_jwk(key.public_only(), "enc-1", std::nullopt));
  jwk["use"] = "enc";
  if (!alg.empty()) {
    jwk["alg"] = alg;
  }
  return jwk;
}

TEST(ClientMetadata, OpenidMayBeRegisteredWithoutBeingConfigured) {
  // Discovery always lists openid in scopes_supported, so a client that copies it from there
  // must not be refused (as_settings() does not list it).
  auto in = base();
  in["scope"] = "openid accounts";
  auto r = validate_client_metadata(in, as_settings());
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->metadata.at("scope").as_string(), "openid accounts");
  in["scope"] = "openid admin";
  EXPECT_FALSE(validate_client_metadata(in, as_settings()));
}

TEST(ClientMetadata, IdTokenEncryptionIsRegisteredWithAnRsaEncryptionKey) {  // F1-13
  auto in = base();
  in["jwks"] = json::object{{"keys", json::array{ec_public_jwk(), rsa_encryption_jwk("")}}};
  in["id_token_encrypted_response_alg"] = "RSA-OAEP-256";
  in["id_token_encrypted_response_enc"] = "A256GCM";
  auto r = validate_client_metadata(in, as_settings());
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->metadata.at("id_token_encrypted_response_alg").as_string(), "RSA-OAEP-256");
  EXPECT_EQ(r->metadata.at("id_token_encrypted_response_enc").as_string(), "A256GCM");
  const ClientPolicy policy = client_policy(r->record, as_settings());
  EXPECT_EQ(policy.id_token_encrypted_response_alg, "RSA-OAEP-256");
  EXPECT_EQ(policy.id_token_encrypted_response_enc, "A256GCM");
  // Only the alg: enc is left to its default (A128CBC-HS256) and not written down.
  in.erase("id_token_encrypted_response_enc");
  in["jwks"] = jwks_of(rsa_encryption_jwk("RSA-OAEP"));
  in["id_token_encrypted_response_alg"] = "RSA-OAEP";
  r = validate_client_metadata(in, as_settings());
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_FALSE(r->metadata.contains("id_token_encrypted_response_enc"));
  EXPECT_EQ(client_policy(r->record, as_settings()).id_token_encrypted_response_enc, "");
}

TEST(ClientMetadata, IdTokenEncryptionNeedsAKeyForThatAlg) {  // F1-13
  auto in = base();
  in["id_token_encrypted_response_alg"] = "RSA-OAEP-256";
  for (auto keys : {jwks_of(ec_public_jwk()), jwks_of(rsa_encryption_jwk("RSA-OAEP"))}) {
    in["jwks"] = keys;
    auto r = validate_client_metadata(in, as_settings());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, OAuthErrc::InvalidClientMetadata);
    EXPECT_NE(r.error().description.find("encrypt ID tokens"), std::string::npos)
        << r.error().description;
  }
}

struct BadCase {
  const char* name;
  const char* patch;        // JSON object merged over base(); null members are erased
  const char* error;
};

// A 1024-bit RSA modulus (any odd 128-byte value passes the shape checks; the size must not).
std::string small_rsa_modulus() {
  std::string n(128, '\xc5');
  n.back() = '\x01';
  return core::base64url_encode(n);
}

class ClientMetadataRefuses : public ::testing::TestWithParam<BadCase> {};

TEST_P(ClientMetadataRefuses, WithItsErrorCode) {
  const BadCase& c = GetParam();
  auto in = base();
  std::string patch = c.patch;
  const std::string kSmall = "SMALL_RSA_N";
  if (auto pos = patch.find(kSmall); pos != std::string::npos) {
    patch.replace(pos, kSmall.size(), small_rsa_modulus());
  }
  const json::value parsed = json::parse(patch);
  for (const auto& [k, v] : parsed.as_object()) {
    if (v.is_null()) {
      in.erase(k);
    } else {
      in[k] = v;
    }
  }
  auto r = validate_client_metadata(in, as_settings());
  ASSERT_FALSE(r) << c.name << " was accepted";
  EXPECT_EQ(errc_name(r.error().code), c.error) << c.name << ": " << r.error().description;
  EXPECT_FALSE(r.error().description.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ClientMetadataRefuses,
    ::testing::Values(
        BadCase{"NoAuthMethod", R"({"token_endpoint_auth_method": null})",
                "invalid_client_metadata"},
        BadCase{"ClientSecretBasic", R"({"token_endpoint_auth_method": "client_secret_basic"})",
                "invalid_client_metadata"},
        BadCase{"NoneAuth", R"({"token_endpoint_auth_method": "none"})",
                "invalid_client_metadata"},
        BadCase{"ClientSecretSent", R"({"client_secret": "s3cret"})", "invalid_client_metadata"},
        BadCase{"TlsAuthWithoutSubject", R"({"tls_client_auth_subject_dn": null})",
                "invalid_client_metadata"},
        BadCase{"TlsAuthTwoSubjects", R"({"tls_client_auth_san_dns": "tpp.example"})",
                "invalid_client_metadata"},
        BadCase{"TlsFieldForOtherMethod",
                R"({"token_endpoint_auth_method": "private_key_jwt",
                    "jwks": {"keys": []}})",
                "invalid_client_metadata"},
        BadCase{"PrivateKeyJwtWithoutJwks",
                R"({"token_endpoint_auth_method": "private_key_jwt",
                    "tls_client_auth_subject_dn": null})",
                "invalid_client_metadata"},
        BadCase{"JwksUriOnly", R"({"jwks_uri": "https://tpp.example/jwks"})",
                "invalid_client_metadata"},
        BadCase{"JwksAndJwksUri",
                R"({"jwks_uri": "https://tpp.example/jwks", "jwks": {"keys": []}})",
                "invalid_client_metadata"},
        BadCase{"JwksNotASet", R"({"jwks": [1, 2]})", "invalid_client_metadata"},
        BadCase{"JwksEmpty", R"({"jwks": {"keys": []}})", "invalid_client_metadata"},
        BadCase{"JwksRsa1024",
                R"({"jwks": {"keys": [{"kty": "RSA", "e": "AQAB", "n": "SMALL_RSA_N"}]}})",
                "invalid_client_metadata"},
        BadCase{"JwksP384",
                R"({"jwks": {"keys": [{"kty": "EC", "crv": "P-384",
                    "x": "AAAA", "y": "AAAA"}]}})",
                "invalid_client_metadata"},
        BadCase{"JwksSymmetric", R"({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}})",
                "invalid_client_metadata"},
        BadCase{"JwksPrivateMember",
                R"({"jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b",
                    "d": "c"}]}})",
                "invalid_client_metadata"},
        // OIDC Registration §2, FAPI 1.0 Part 2 §8.6.1 (F1-13).
        BadCase{"IdTokenEncWithoutAlg", R"({"id_token_encrypted_response_enc": "A256GCM"})",
                "invalid_client_metadata"},
        BadCase{"IdTokenEncryptionRsa15", R"({"id_token_encrypted_response_alg": "RSA1_5"})",
                "invalid_client_metadata"},
        BadCase{"IdTokenEncryptionUnknownEnc",
                R"({"id_token_encrypted_response_alg": "RSA-OAEP-256",
                    "id_token_encrypted_response_enc": "A192GCM"})",
                "invalid_client_metadata"},
        BadCase{"IdTokenEncryptionWithoutJwks",
                R"({"id_token_encrypted_response_alg": "RSA-OAEP-256"})",
                "invalid_client_metadata"},
        BadCase{"IdTokenEncryptionAlgNotAString",
                R"({"id_token_encrypted_response_alg": ["RSA-OAEP-256"]})",
                "invalid_client_metadata"},
        BadCase{"UnknownGrant", R"({"grant_types": ["implicit"]})", "invalid_client_metadata"},
        BadCase{"PasswordGrant", R"({"grant_types": ["password"]})", "invalid_client_metadata"},
        BadCase{"EmptyGrants", R"({"grant_types": []})", "invalid_client_metadata"},
        BadCase{"RefreshWithoutCode", R"({"grant_types": ["client_credentials",
                "refresh_token"]})", "invalid_client_metadata"},
        BadCase{"HybridForFapi2", R"({"response_types": ["code id_token"]})",
                "invalid_client_metadata"},
        BadCase{"TokenResponseType", R"({"response_types": ["token"]})",
                "invalid_client_metadata"},
        BadCase{"CodeWithoutCodeGrant", R"({"grant_types": ["client_credentials"],
                "response_types": ["code"]})", "invalid_client_metadata"},
        BadCase{"EmptyResponseTypesWithCode", R"({"response_types": []})",
                "invalid_client_metadata"},
        BadCase{"NoRedirectUris", R"({"redirect_uris": null})", "invalid_redirect_uri"},
        BadCase{"EmptyRedirectUris", R"({"redirect_uris": []})", "invalid_redirect_uri"},
        BadCase{"RedirectUrisNotArray", R"({"redirect_uris": "https://tpp.example/cb"})",
                "invalid_redirect_uri"},
        BadCase{"HttpRedirect", R"({"redirect_uris": ["http://tpp.example/cb"]})",
                "invalid_redirect_uri"},
        BadCase{"HttpLoopbackRedirect", R"({"redirect_uris": ["http://127.0.0.1:8080/cb"]})",
                "invalid_redirect_uri"},
        BadCase{"FragmentRedirect", R"({"redirect_uris": ["https://tpp.example/cb#x"]})",
                "invalid_redirect_uri"},
        BadCase{"CustomSchemeRedirect", R"({"redirect_uris": ["com.example.app:/cb"]})",
                "invalid_redirect_uri"},
        BadCase{"UserinfoRedirect", R"({"redirect_uris": ["https://a@tpp.example/cb"]})",
                "invalid_redirect_uri"},
        BadCase{"NoHostRedirect", R"({"redirect_uris": ["https:///cb"]})",
                "invalid_redirect_uri"},
        BadCase{"SpaceInRedirect", R"({"redirect_uris": ["https://tpp.example/c b"]})",
                "invalid_redirect_uri"},
        BadCase{"BadPortRedirect", R"({"redirect_uris": ["https://tpp.example:80x/cb"]})",
                "invalid_redirect_uri"},
        BadCase{"UnknownScope", R"({"scope": "accounts admin"})", "invalid_client_metadata"},
        BadCase{"EmptyScope", R"({"scope": "   "})", "invalid_client_metadata"},
        BadCase{"IdTokenRs256", R"({"id_token_signed_response_alg": "RS256"})",
                "invalid_client_metadata"},
        BadCase{"IdTokenNone", R"({"id_token_signed_response_alg": "none"})",
                "invalid_client_metadata"},
        BadCase{"IdTokenAlgTheServerDoesNotSign",
                R"({"id_token_signed_response_alg": "ES256"})", "invalid_client_metadata"},
        BadCase{"JarmHs256", R"({"authorization_signed_response_alg": "HS256"})",
                "invalid_client_metadata"},
        BadCase{"RequestObjectHs256", R"({"request_object_signing_alg": "HS256"})",
                "invalid_client_metadata"},
        BadCase{"RequestObjectNone", R"({"request_object_signing_alg": "none"})",
                "invalid_client_metadata"},
        BadCase{"AssertionAlgForTlsClient", R"({"token_endpoint_auth_signing_alg": "PS256"})",
                "invalid_client_metadata"},
        BadCase{"Fapi2WithoutPar", R"({"require_pushed_authorization_requests": false})",
                "invalid_client_metadata"},
        BadCase{"Fapi2WithRotation", R"({"refresh_token_rotation": true})",
                "invalid_client_metadata"},
        BadCase{"UnknownProfile", R"({"fapi_profile": "fapi3"})", "invalid_client_metadata"},
        BadCase{"UnboundTokens", R"({"tls_client_certificate_bound_access_tokens": false})",
                "invalid_client_metadata"},
        BadCase{"NativeApplication", R"({"application_type": "native"})",
                "invalid_client_metadata"},
        BadCase{"HttpClientUri", R"({"client_uri": "http://tpp.example"})",
                "invalid_client_metadata"},
        BadCase{"NameNotString", R"({"client_name": 42})", "invalid_client_metadata"},
        BadCase{"BoolNotBool", R"({"refresh_token_rotation": "no"})",
                "invalid_client_metadata"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// Software statements

constexpr std::int64_t kNow = 1'700'000'000;
constexpr const char* kDirectory = "https://directory.example";

class SoftwareStatement : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    auto k = crypto::Key::generate(crypto::KeyType::Ec);
    ASSERT_TRUE(k);
    directory_key_ = new crypto::Key(*k);
    auto o = crypto::Key::generate(crypto::KeyType::Ec);
    ASSERT_TRUE(o);
    other_key_ = new crypto::Key(*o);
  }

  SoftwareStatementTrust trust() const {
    jose::Jwks jwks;
    jwks.keys.push_back(jose::make_jwk(directory_key_->public_only(), "dir-1", jose::Alg::ES256));
    SoftwareStatementTrust t;
    t.keys = std::make_shared<const jose::VerifierSet>(jwks);
    t.issuer = kDirectory;
    t.max_age = 3600;
    return t;
  }

  static json::object claims() {
    return json::object{{"iss", kDirectory},
                        {"iat", kNow - 10},
                        {"exp", kNow + 600},
                        {"jti", "ssa-1"},
                        {"software_id", "sw-1"},
                        {"scope", "accounts"},
                        {"software_redirect_uris", json::array{"https://tpp.example/cb"}}};
  }

  static std::string sign(const json::object& c, const crypto::Key& key, const char* kid = "dir-1",
                          jose::Alg alg = jose::Alg::ES256) {
    auto t = jose::sign_compact(json::serialize(c), alg, key, kid);
    EXPECT_TRUE(t);
    return t ? *t : std::string();
  }

  std::string verify_code(const std::string& statement) const {
    auto r = verify_software_statement(statement, trust(), kNow);
    return r ? std::string("ok") : std::string(errc_name(r.error().code));
  }

  static inline crypto::Key* directory_key_ = nullptr;
  static inline crypto::Key* other_key_ = nullptr;
};

TEST_F(SoftwareStatement, VerifiedClaimsLoseTheRegisteredJwtClaims) {
  auto r = verify_software_statement(sign(claims(), *directory_key_), trust(), kNow);
  ASSERT_TRUE(r) << r.error().description;
  EXPECT_EQ(r->at("software_id").as_string(), "sw-1");
  for (const char* gone : {"iss", "iat", "exp", "jti"}) {
    EXPECT_FALSE(r->contains(gone)) << gone;
  }
}

TEST_F(SoftwareStatement, WrongIssuerIsInvalid) {
  auto c = claims();
  c["iss"] = "https://elsewhere.example";
  EXPECT_EQ(verify_code(sign(c, *directory_key_)), "invalid_software_statement");
}

TEST_F(SoftwareStatement, ExpiredIsInvalid) {
  auto c = claims();
  c["exp"] = kNow - 120;
  EXPECT_EQ(verify_code(sign(c, *directory_key_)), "invalid_software_statement");
}

TEST_F(SoftwareStatement, MissingIatIsInvalid) {
  auto c = claims();
  c.erase("iat");
  EXPECT_EQ(verify_code(sign(c, *directory_key_)), "invalid_software_statement");
}

TEST_F(SoftwareStatement, TooOldIsInvalid) {
  auto c = claims();
  c["iat"] = kNow - 3601;
  c.erase("exp");
  EXPECT_EQ(verify_code(sign(c, *directory_key_)), "invalid_software_statement");
}

// Regression (tests/fuzz/regressions/software_statement/sign_iat_int64_min_overflow): now - iat
// overflowed for an iat near INT64_MIN (UBSan), and wrapped it let an ancient statement pass.
TEST_F(SoftwareStatement, IatAtInt64MinIsTooOld) {
  auto c = claims();
  c["iat"] = std::numeric_limits<std::int64_t>::min();
  c.erase("exp");
  auto r = verify_software_statement(sign(c, *directory_key_), trust(), kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(errc_name(r.error().code), "invalid_software_statement");
  EXPECT_EQ(r.error().description,
            "the software statement is too old (iat more than 3600 seconds ago)");
}

TEST_F(SoftwareStatement, IssuedInTheFutureIsInvalid) {
  auto c = claims();
  c["iat"] = kNow + 300;
  EXPECT_EQ(verify_code(sign(c, *directory_key_)), "invalid_software_statement");
}

TEST_F(SoftwareStatement, BadSignatureWithTheDirectoryKidIsInvalid) {
  EXPECT_EQ(verify_code(sign(claims(), *other_key_, "dir-1")), "invalid_software_statement");
  // A flipped signature byte on a genuine statement, too.
  std::string s = sign(claims(), *directory_key_);
  s[s.size() - 5] = s[s.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify_code(s), "invalid_software_statement");
}

TEST_F(SoftwareStatement, KeyOfAnotherDirectoryIsUnapproved) {
  EXPECT_EQ(verify_code(sign(claims(), *other_key_, "other-directory")),
            "unapproved_software_statement");
}

TEST_F(SoftwareStatement, OnlyPs256AndEs256) {
  auto ed = crypto::Key::generate(crypto::KeyType::Ed25519);
  ASSERT_TRUE(ed);
  EXPECT_EQ(verify_code(sign(claims(), *ed, "dir-1", jose::Alg::EdDSA)),
            "invalid_software_statement");
  const std::string payload = core::base64url_encode(json::serialize(claims()));
  EXPECT_EQ(verify_code(core::base64url_encode(R"({"alg":"none"})") + "." + payload + "."),
            "invalid_software_statement");
  EXPECT_EQ(verify_code(core::base64url_encode(R"({"alg":"HS256","kid":"dir-1"})") + "." +
                        payload + ".c2ln"),
            "invalid_software_statement");
  EXPECT_EQ(verify_code("not-a-jwt"), "invalid_software_statement");
}

TEST_F(SoftwareStatement, NoTrustConfiguredIsUnapproved) {
  auto r = verify_software_statement(sign(claims(), *directory_key_), SoftwareStatementTrust{},
                                     kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, OAuthErrc::UnapprovedSoftwareStatement);
}

TEST(ApplySoftwareStatement, StatementClaimsWinOverPlainMetadata) {
  json::object meta{{"scope", "accounts payments"}, {"client_name", "plain"}};
  json::object claims{{"scope", "accounts"}, {"client_name", "from directory"}};
  auto r = apply_software_statement(meta, claims);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->at("scope").as_string(), "accounts");
  EXPECT_EQ(r->at("client_name").as_string(), "from directory");
}

TEST(ApplySoftwareStatement, SoftwareRedirectUrisBoundTheRequestedOnes) {
  json::object claims{{"software_redirect_uris", json::array{"https://tpp.example/cb"}}};
  json::object ok{{"redirect_uris", json::array{"https://tpp.example/cb"}}};
  EXPECT_TRUE(apply_software_statement(ok, claims));
  json::object absent;
  auto filled = apply_software_statement(absent, claims);
  ASSERT_TRUE(filled);
  EXPECT_EQ(json::serialize(filled->at("redirect_uris")), R"(["https://tpp.example/cb"])");
  json::object other{{"redirect_uris", json::array{"https://evil.example/cb"}}};
  auto r = apply_software_statement(other, claims);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, OAuthErrc::InvalidRedirectUri);
}

}  // namespace
}  // namespace fapigate::as
