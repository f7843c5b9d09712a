// Token endpoint: client_credentials over mTLS (RFC 6749 §4.4, RFC 8705 §2.1 and §3, RFC 9068)
// and every refusal with its exact status and error code (fapi-requirements B.3).
#include "as/as_fixture.hpp"

#include <boost/json/serialize.hpp>

#include "core/strings.hpp"

namespace fapigate::as::test {
namespace {

class TokenEndpoint : public AsTest {
protected:
  void SetUp() override {
    AsTest::SetUp();
    start();
  }

  jose::Jwks published_jwks() {
    auto r = call(get("/jwks"));
    EXPECT_EQ(r.status, 200);
    auto jwks = jose::parse_jwks(r.body);
    EXPECT_TRUE(jwks) << r.body;
    return jwks ? *jwks : jose::Jwks{};
  }
};

constexpr const char* kCc = "grant_type=client_credentials&client_id=partner-client";

TEST_F(TokenEndpoint, CertificateFixtureHasTheExpectedSubject) {
  ASSERT_NE(partner_, nullptr);
  EXPECT_EQ(partner_->subject_dn, "CN=partner-client,O=fapigate");
  EXPECT_EQ(san_->san_dns, std::vector<std::string>{"partner.example.com"});
  EXPECT_EQ(partner_->x5t_s256.size(), 43u);
}

TEST_F(TokenEndpoint, ClientCredentialsIssuesCertificateBoundJwt) {
  auto r = token(kCc, partner_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
  EXPECT_EQ(r.headers.get("Pragma").value_or(""), "no-cache");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json");

  auto body = json_of(r.body);
  EXPECT_EQ(str(body, "token_type"), "Bearer");
  EXPECT_EQ(core::get_int(body, "expires_in").value_or(-1), 300);
  EXPECT_EQ(str(body, "scope"), "accounts payments");
  const std::string at = str(body, "access_token");

  auto parsed = jose::parse_compact(at, jose::kAllAlgs);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->typ, "at+jwt");
  EXPECT_EQ(parsed->alg, jose::Alg::PS256);
  EXPECT_EQ(parsed->kid, pki_->rsa_kid);

  auto claims = json_of(parsed->payload);
  EXPECT_EQ(str(claims, "iss"), kIssuer);
  EXPECT_EQ(str(claims, "sub"), "partner-client");
  EXPECT_EQ(str(claims, "client_id"), "partner-client");
  EXPECT_EQ(str(claims, "aud"), kApiAudience);
  EXPECT_EQ(str(claims, "scope"), "accounts payments");
  EXPECT_EQ(core::get_int(claims, "iat").value_or(0), kNow);
  EXPECT_EQ(core::get_int(claims, "exp").value_or(0), kNow + 300);
  EXPECT_GE(str(claims, "jti").size(), 16u);
  const auto* cnf = core::get_object(claims, "cnf");
  ASSERT_NE(cnf, nullptr);
  // RFC 8705 §3.1: base64url(SHA-256(DER)), recomputed here from the certificate itself.
  EXPECT_EQ(str(*cnf, "x5t#S256"), crypto::sha256_b64url(pki_->partner.der));
  EXPECT_EQ(str(*cnf, "x5t#S256"), partner_->x5t_s256);

  // The signature verifies against the published JWKS, and only with the AS's algorithm.
  auto jwks = published_jwks();
  jose::VerifierSet set(jwks);
  EXPECT_TRUE(jose::verify_compact(at, jose::AlgList{jose::Alg::PS256}, set));
  EXPECT_FALSE(jose::verify_compact(at, jose::AlgList{jose::Alg::ES256}, set));
}

TEST_F(TokenEndpoint, EachTokenHasItsOwnJti) {
  auto a = json_of(call(post("/token", kCc, partner_)).body);
  auto b = json_of(call(post("/token", kCc, partner_)).body);
  auto ca = json_of(jose::parse_compact(str(a, "access_token"), jose::kAllAlgs)->payload);
  auto cb = json_of(jose::parse_compact(str(b, "access_token"), jose::kAllAlgs)->payload);
  EXPECT_NE(str(ca, "jti"), str(cb, "jti"));
  EXPECT_NE(str(a, "access_token"), str(b, "access_token"));
}

TEST_F(TokenEndpoint, RequestedScopeSubsetIsGrantedAndDeduplicated) {
  auto r = token(std::string(kCc) + "&scope=accounts%20accounts", partner_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json_of(r.body);
  EXPECT_EQ(str(body, "scope"), "accounts");
  auto claims = json_of(jose::parse_compact(str(body, "access_token"), jose::kAllAlgs)->payload);
  EXPECT_EQ(str(claims, "scope"), "accounts");
}

TEST_F(TokenEndpoint, ContentTypeParametersAndCaseAreAccepted) {
  auto r = call(post("/token", kCc, partner_, "Application/X-WWW-Form-Urlencoded; charset=UTF-8"));
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(TokenEndpoint, EmptyAudienceSettingDefaultsToIssuer) {
  auto s = default_settings();
  s.access_token_audiences.clear();
  start(s);
  auto body = json_of(token(kCc, partner_).body);
  auto claims = json_of(jose::parse_compact(str(body, "access_token"), jose::kAllAlgs)->payload);
  EXPECT_EQ(str(claims, "aud"), kIssuer);
}

TEST_F(TokenEndpoint, SeveralAudiencesBecomeAnArray) {
  auto s = default_settings();
  s.access_token_audiences = {"https://a.example", "https://b.example"};
  start(s);
  auto body = json_of(token(kCc, partner_).body);
  auto claims = json_of(jose::parse_compact(str(body, "access_token"), jose::kAllAlgs)->payload);
  const auto* aud = claims.if_contains("aud");
  ASSERT_NE(aud, nullptr);
  ASSERT_TRUE(aud->is_array());
  EXPECT_EQ(boost::json::serialize(*aud), R"(["https://a.example","https://b.example"])");
}

// ---- client authentication (RFC 8705 §2, fapi-requirements M-01/M-02, N-53/N-54) -----------

TEST_F(TokenEndpoint, NoCertificateIsInvalidClient) {
  expect_oauth_error(token(kCc, nullptr), 401, "invalid_client");
}

TEST_F(TokenEndpoint, CertificateWithAnotherSubjectIsInvalidClient) {
  expect_oauth_error(token(kCc, other_), 401, "invalid_client");
}

TEST_F(TokenEndpoint, OtherClientsIdWithMyCertificateIsInvalidClient) {
  // N-53: client_id of client 2 with client 1's certificate.
  expect_oauth_error(token("grant_type=client_credentials&client_id=other-partner", partner_),
                     401, "invalid_client");
}

TEST_F(TokenEndpoint, UnknownClientIdIsInvalidClient) {
  expect_oauth_error(token("grant_type=client_credentials&client_id=nobody", partner_), 401,
                     "invalid_client");
}

TEST_F(TokenEndpoint, MissingClientIdIsInvalidClient) {
  expect_oauth_error(token("grant_type=client_credentials", partner_), 401, "invalid_client");
}

TEST_F(TokenEndpoint, EmptyClientIdIsInvalidClient) {
  expect_oauth_error(token("grant_type=client_credentials&client_id=", partner_), 401,
                     "invalid_client");
}

TEST_F(TokenEndpoint, OverlongClientIdIsInvalidClient) {
  expect_oauth_error(
      token("grant_type=client_credentials&client_id=" + std::string(300, 'a'), partner_), 401,
      "invalid_client");
}

TEST_F(TokenEndpoint, ClientSecretAlsoSentIsInvalidClient) {
  expect_oauth_error(token(std::string(kCc) + "&client_secret=s3cret", partner_), 401,
                     "invalid_client");
}

TEST_F(TokenEndpoint, AuthorizationHeaderAlsoSentIsInvalidClient) {
  auto req = post("/token", kCc, partner_);
  req.headers.add("Authorization", "Basic cGFydG5lci1jbGllbnQ6eA==");
  expect_oauth_error(call(std::move(req)), 401, "invalid_client");
}

TEST_F(TokenEndpoint, ClientRegisteredForAnotherAuthMethodIsInvalidClient) {
  expect_oauth_error(token("grant_type=client_credentials&client_id=pkjwt-client", partner_),
                     401, "invalid_client");
}

TEST_F(TokenEndpoint, SubjectDnComparisonToleratesSpacingAndTypeCase) {
  auto r = token("grant_type=client_credentials&client_id=spaced-dn", partner_);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(TokenEndpoint, SubjectDnComparisonIsNotAPrefixMatch) {
  // Registered "CN=partner-client" while the certificate says "CN=partner-client,O=fapigate".
  expect_oauth_error(token("grant_type=client_credentials&client_id=partial-dn", partner_), 401,
                     "invalid_client");
}

TEST_F(TokenEndpoint, SanDnsMatchAuthenticates) {
  auto r = token("grant_type=client_credentials&client_id=san-client", san_);
  ASSERT_EQ(r.status, 200) << r.body;
  auto claims = json_of(
      jose::parse_compact(str(json_of(r.body), "access_token"), jose::kAllAlgs)->payload);
  EXPECT_EQ(str(*core::get_object(claims, "cnf"), "x5t#S256"), san_->x5t_s256);
}

TEST_F(TokenEndpoint, SanDnsOfAnotherNameIsInvalidClient) {
  expect_oauth_error(token("grant_type=client_credentials&client_id=san-other", san_), 401,
                     "invalid_client");
}

TEST_F(TokenEndpoint, SanClientWithACertificateWithoutSanIsInvalidClient) {
  expect_oauth_error(token("grant_type=client_credentials&client_id=san-client", partner_), 401,
                     "invalid_client");
}

TEST_F(TokenEndpoint, SanInTheCommonNameDoesNotCountAsSan) {
  auto cn_only = std::make_shared<http::PeerCertificate>(*partner_);
  cn_only->subject_dn = "CN=partner.example.com,O=fapigate";
  cn_only->san_dns.clear();
  expect_oauth_error(token("grant_type=client_credentials&client_id=san-client", cn_only), 401,
                     "invalid_client");
}

// ---- request syntax (RFC 6749 §3.1, §3.2, §4.4.2) ------------------------------------------

TEST_F(TokenEndpoint, JsonBodyIsInvalidRequest) {
  auto req = post("/token", R"({"grant_type":"client_credentials","client_id":"partner-client"})",
                  partner_, "application/json");
  expect_oauth_error(call(std::move(req)), 400, "invalid_request");
}

TEST_F(TokenEndpoint, MissingContentTypeIsInvalidRequest) {
  expect_oauth_error(call(post("/token", kCc, partner_, "")), 400, "invalid_request");
}

TEST_F(TokenEndpoint, RepeatedParameterIsInvalidRequest) {
  expect_oauth_error(token(std::string(kCc) + "&grant_type=client_credentials", partner_), 400,
                     "invalid_request");
}

TEST_F(TokenEndpoint, RepeatedClientIdIsInvalidRequest) {
  expect_oauth_error(token(std::string(kCc) + "&client_id=other-partner", partner_), 400,
                     "invalid_request");
}

TEST_F(TokenEndpoint, MalformedPercentEscapeIsInvalidRequest) {
  expect_oauth_error(token(std::string(kCc) + "&scope=%zz", partner_), 400, "invalid_request");
}

TEST_F(TokenEndpoint, ParametersInTheQueryAreInvalidRequest) {
  auto req = post("/token", kCc, partner_);
  req.target = "/token?client_id=partner-client";
  req.query = "client_id=partner-client";
  expect_oauth_error(call(std::move(req)), 400, "invalid_request");
}

TEST_F(TokenEndpoint, OversizedOrOverlongFormIsInvalidRequest) {
  expect_oauth_error(token(std::string(kCc) + "&pad=" + std::string(70 * 1024, 'x'), partner_),
                     400, "invalid_request");
  std::string many = kCc;
  for (int i = 0; i < 70; ++i) {
    many += "&p" + std::to_string(i) + "=1";
  }
  expect_oauth_error(token(many, partner_), 400, "invalid_request");
}

TEST_F(TokenEndpoint, RenewedCertificateGetsATokenBoundToIt) {
  // Same subject DN, new key pair: authentication still succeeds and cnf follows the
  // certificate actually presented (fapi-requirements M-10).
  crypto::LeafOptions o;
  o.common_name = "partner-client";
  auto renewed = crypto::issue_client_certificate(pki_->ca, o);
  ASSERT_TRUE(renewed);
  auto peer = peer_of(*renewed);
  ASSERT_NE(peer->x5t_s256, partner_->x5t_s256);
  auto r = token(kCc, peer);
  ASSERT_EQ(r.status, 200) << r.body;
  auto claims = json_of(
      jose::parse_compact(str(json_of(r.body), "access_token"), jose::kAllAlgs)->payload);
  EXPECT_EQ(str(*core::get_object(claims, "cnf"), "x5t#S256"), peer->x5t_s256);
}

TEST_F(TokenEndpoint, MissingGrantTypeIsInvalidRequest) {
  expect_oauth_error(token("client_id=partner-client", partner_), 400, "invalid_request");
}

TEST_F(TokenEndpoint, PasswordGrantIsUnsupported) {
  expect_oauth_error(
      token("grant_type=password&client_id=partner-client&username=a&password=b", partner_), 400,
      "unsupported_grant_type");
}

TEST_F(TokenEndpoint, GrantTypeIsCaseSensitive) {
  expect_oauth_error(token("grant_type=Client_Credentials&client_id=partner-client", partner_),
                     400, "unsupported_grant_type");
}

TEST_F(TokenEndpoint, ClientNotRegisteredForClientCredentialsIsUnauthorizedClient) {
  expect_oauth_error(token("grant_type=client_credentials&client_id=code-only", partner_), 400,
                     "unauthorized_client");
}

TEST_F(TokenEndpoint, UnregisteredScopeIsInvalidScope) {
  expect_oauth_error(token(std::string(kCc) + "&scope=accounts%20admin", partner_), 400,
                     "invalid_scope");
}

TEST_F(TokenEndpoint, ScopeRegisteredForAnotherClientOnlyIsInvalidScope) {
  expect_oauth_error(
      token("grant_type=client_credentials&client_id=san-client&scope=payments", san_), 400,
      "invalid_scope");
}

TEST_F(TokenEndpoint, ScopeWithForbiddenCharactersIsInvalidScope) {
  // RFC 6749 §3.3: '"' (0x22), '\' (0x5C), controls and non-ASCII are outside scope-token.
  for (const char* bad : {"accounts%22", "accounts%5C", "accounts%09payments", "accounts%0A",
                          "acc%C3%A9unts", "accounts%7F"}) {
    expect_oauth_error(token(std::string(kCc) + "&scope=" + bad, partner_), 400, "invalid_scope");
  }
}

TEST_F(TokenEndpoint, EmptyScopeIsInvalidScope) {
  expect_oauth_error(token(std::string(kCc) + "&scope=", partner_), 400, "invalid_scope");
  expect_oauth_error(token(std::string(kCc) + "&scope=%20%20", partner_), 400, "invalid_scope");
}

TEST_F(TokenEndpoint, ErrorResponsesDoNotLeakDetail) {
  auto r = token("grant_type=client_credentials&client_id=nobody", partner_);
  EXPECT_EQ(r.body.find("nobody"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("CN="), std::string::npos) << r.body;
}

// ---- routing ---------------------------------------------------------------------------------

TEST_F(TokenEndpoint, GetTokenIsMethodNotAllowed) {
  auto r = call(get("/token"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.get("Allow").value_or(""), "POST");
}

TEST_F(TokenEndpoint, PostToJwksAndDiscoveryIsMethodNotAllowed) {
  for (const char* p : {"/jwks", "/.well-known/openid-configuration"}) {
    auto r = call(post(p, "", partner_));
    EXPECT_EQ(r.status, 405) << p;
    EXPECT_EQ(r.headers.get("Allow").value_or(""), "GET") << p;
  }
}

TEST_F(TokenEndpoint, UnknownPathIsNotFound) {
  EXPECT_EQ(call(post("/no-such-endpoint", kCc, partner_)).status, 404);
  EXPECT_EQ(call(get("/token/")).status, 404);
  EXPECT_EQ(call(get("/")).status, 404);
}

// ---- signing algorithms --------------------------------------------------------------------

class TokenEndpointAlg : public AsTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(TokenEndpointAlg, IssuesTokensSignedWithTheConfiguredAlg) {
  auto s = default_settings();
  s.signing_alg = GetParam();
  start(s);
  auto r = token(kCc, partner_);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string at = str(json_of(r.body), "access_token");
  auto alg = jose::parse_alg(GetParam());
  ASSERT_TRUE(alg);
  auto jwks = jose::parse_jwks(call(get("/jwks")).body);
  ASSERT_TRUE(jwks);
  jose::VerifierSet set(*jwks);
  auto v = jose::verify_compact(at, jose::AlgList{*alg}, set);
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(v->alg, *alg);
}

INSTANTIATE_TEST_SUITE_P(Algs, TokenEndpointAlg, ::testing::Values("PS256", "ES256", "EdDSA"));

TEST_F(AsTest, UnknownSigningAlgRefusesToStart) {
  auto s = default_settings();
  for (const char* alg : {"HS256", "none", "RS256", ""}) {
    s.signing_alg = alg;
    EXPECT_FALSE(AsService::create(s, *store_, clock_)) << alg;
  }
}

}  // namespace
}  // namespace fapigate::as::test
