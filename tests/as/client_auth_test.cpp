// Client authentication (as/checks/client_auth, client_assertion) through the real endpoints:
// private_key_jwt (RFC 7523 §3, OIDC Core §9), self_signed_tls_client_auth (RFC 8705 §2.2),
// tls_client_auth's chain requirement, one method per client, the durable jti replay cache,
// and loading a client's jwks_file. fapi-requirements B.3 N-53..N-60, A.4 M-01..M-03.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>

#include <boost/json/serialize.hpp>

#include "as/as_fixture.hpp"
#include "as/checks/client_assertion.hpp"
#include "as/checks/client_auth.hpp"
#include "core/strings.hpp"
#include "jose/jwe.hpp"

namespace fapigate::as::test {
namespace {

constexpr const char* kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct ClientKeys {
  crypto::Key ec, ed, rsa;        // registered for jwt-client (kids "ec", "ed", "rsa")
  crypto::Key stranger;           // registered nowhere
  crypto::IssuedCertificate self_signed;        // registered (x5c) for self-signed-client
  crypto::IssuedCertificate self_signed_bare;   // registered as a bare key for self-signed-bare
  crypto::IssuedCertificate forged_partner;     // self-signed, subject CN=partner-client,O=fapigate
  std::filesystem::path dir;
  std::string jwt_jwks, self_jwks, bare_jwks;   // files
};

std::string b64(std::string_view s) { return core::base64url_encode(s); }

std::string raw_jws(const std::string& header, const std::string& payload,
                    const std::string& signature) {
  return b64(header) + "." + b64(payload) + "." + b64(signature);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// A genuine RSASSA-PKCS1-v1_5 SHA-256 signature: RS256 done right, still not allowed.
std::string rs256_sign(const crypto::Key& key, std::string_view input) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::string sig;
  size_t len = 0;
  if (EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
      EVP_DigestSign(md, nullptr, &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1) {
    sig.resize(len);
    if (EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
      sig.clear();
    }
    sig.resize(len);
  }
  EVP_MD_CTX_free(md);
  EXPECT_FALSE(sig.empty());
  return sig;
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << p;
}

std::string jwks_of(std::vector<jose::Jwk> keys, bool include_private = false) {
  jose::Jwks set;
  set.keys = std::move(keys);
  return jose::to_json_string(set, include_private);
}

class ClientAuth : public AsTest {
protected:
  static void SetUpTestSuite() {
    AsTest::SetUpTestSuite();
    if (keys_) {
      return;
    }
    auto k = std::make_unique<ClientKeys>();
    auto gen = [](crypto::KeyType t) {
      auto key = crypto::Key::generate(t);
      EXPECT_TRUE(key) << key.error().message();
      return key ? *key : crypto::Key();
    };
    k->ec = gen(crypto::KeyType::Ec);
    k->ed = gen(crypto::KeyType::Ed25519);
    k->rsa = gen(crypto::KeyType::Rsa);
    k->stranger = gen(crypto::KeyType::Ec);
    auto self_signed = [](std::string cn) {
      crypto::CaOptions o;
      o.common_name = std::move(cn);
      auto c = crypto::issue_ca(o);
      EXPECT_TRUE(c) << c.error().message();
      return c ? *c : crypto::IssuedCertificate{};
    };
    k->self_signed = self_signed("self-signed-client");
    k->self_signed_bare = self_signed("self-signed-bare");
    k->forged_partner = self_signed("partner-client");

    std::string tmpl = (std::filesystem::temp_directory_path() / "fapigate-clientauth-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    k->dir = tmpl;
    k->jwt_jwks = (k->dir / "jwt-client.jwks.json").string();
    k->self_jwks = (k->dir / "self-signed.jwks.json").string();
    k->bare_jwks = (k->dir / "self-signed-bare.jwks.json").string();
    write_file(k->jwt_jwks, jwks_of({jose::make_jwk(k->ec.public_only(), "ec", jose::Alg::ES256),
                                     jose::make_jwk(k->ed.public_only(), "ed", jose::Alg::EdDSA),
                                     jose::make_jwk(k->rsa.public_only(), "rsa", jose::Alg::PS256)}));
    auto with_x5c = jose::make_jwk(k->self_signed.key.public_only(), "cert", std::nullopt);
    with_x5c.x5c = {core::base64_encode(k->self_signed.der)};
    write_file(k->self_jwks, jwks_of({with_x5c}));
    write_file(k->bare_jwks,
               jwks_of({jose::make_jwk(k->self_signed_bare.key.public_only(), "bare", std::nullopt)}));
    keys_ = k.release();
  }

  static config::AuthorizationServer settings() {
    auto s = default_settings();
    config::ClientRegistration jwt;
    jwt.client_id = "jwt-client";
    jwt.token_endpoint_auth_method = "private_key_jwt";
    jwt.jwks_file = keys_->jwt_jwks;
    jwt.grant_types = {"client_credentials"};
    jwt.scopes = {"accounts", "payments"};
    s.clients.push_back(jwt);
    config::ClientRegistration self = jwt;
    self.client_id = "self-signed-client";
    self.token_endpoint_auth_method = "self_signed_tls_client_auth";
    self.jwks_file = keys_->self_jwks;
    s.clients.push_back(self);
    self.client_id = "self-signed-bare";
    self.jwks_file = keys_->bare_jwks;
    s.clients.push_back(self);
    return s;
  }

  void SetUp() override {
    AsTest::SetUp();
    start(settings());
  }

  static std::shared_ptr<const http::PeerCertificate> unverified(
      const crypto::IssuedCertificate& c) {
    auto p = peer_of(c);
    auto copy = std::make_shared<http::PeerCertificate>(*p);
    copy->chain_verified = false;
    return copy;
  }

  boost::json::object claims(std::string id = "jwt-client") {
    return boost::json::object{{"iss", id},
                               {"sub", id},
                               {"aud", kIssuer},
                               {"iat", clock_.now()},
                               {"exp", clock_.now() + 60},
                               {"jti", crypto::random_token(16)}};
  }

  static std::string sign(const boost::json::object& c, const crypto::Key& key = keys_->ec,
                          jose::Alg alg = jose::Alg::ES256, std::string_view kid = "ec") {
    auto t = jose::sign_compact(boost::json::serialize(c), alg, key, kid);
    EXPECT_TRUE(t) << t.error().message();
    return t ? *t : std::string();
  }

  static std::string assertion_params(const std::string& assertion) {
    return std::string("&client_assertion_type=") + core::percent_encode(kJwtBearer) +
           "&client_assertion=" + assertion;
  }

  http::Response jwt_token(const std::string& assertion, std::string extra = {},
                           std::shared_ptr<const http::PeerCertificate> cert = nullptr,
                           bool with_cert = true) {
    if (with_cert && !cert) {
      cert = partner_;
    }
    return token("grant_type=client_credentials" + assertion_params(assertion) + extra, cert);
  }

  void expect_invalid_client(const http::Response& r) {
    expect_oauth_error(r, 401, "invalid_client");
  }

  static inline ClientKeys* keys_ = nullptr;
};

// ---- private_key_jwt: accepted --------------------------------------------------------------

TEST_F(ClientAuth, PrivateKeyJwtIssuesATokenBoundToThePresentedCertificate) {
  auto r = jwt_token(sign(claims()));
  ASSERT_EQ(r.status, 200) << r.body;
  auto at = str(json_of(r.body), "access_token");
  auto jws = jose::parse_compact(at, jose::kAllAlgs);
  ASSERT_TRUE(jws);
  auto c = json_of(jws->payload);
  EXPECT_EQ(str(c, "client_id"), "jwt-client");
  EXPECT_EQ(str(c, "sub"), "jwt-client");
  // FAPI: sender-constrained even though the certificate did not authenticate the client.
  const auto* cnf = c.if_contains("cnf");
  ASSERT_NE(cnf, nullptr);
  EXPECT_EQ(str(cnf->as_object(), "x5t#S256"), partner_->x5t_s256);
}

TEST_F(ClientAuth, EveryFapiAlgorithmIsAccepted) {
  EXPECT_EQ(jwt_token(sign(claims(), keys_->ec, jose::Alg::ES256, "ec")).status, 200);
  EXPECT_EQ(jwt_token(sign(claims(), keys_->ed, jose::Alg::EdDSA, "ed")).status, 200);
  EXPECT_EQ(jwt_token(sign(claims(), keys_->rsa, jose::Alg::PS256, "rsa")).status, 200);
}

TEST_F(ClientAuth, MatchingClientIdParameterIsAccepted) {
  EXPECT_EQ(jwt_token(sign(claims()), "&client_id=jwt-client").status, 200);
}

TEST_F(ClientAuth, NbfEightSecondsAheadIsAccepted) {  // N-41
  auto c = claims();
  c["nbf"] = clock_.now() + 8;
  c["iat"] = clock_.now() + 8;
  EXPECT_EQ(jwt_token(sign(c)).status, 200);
}

TEST_F(ClientAuth, UnverifiedCertificateStillBindsTheToken) {
  // RFC 8705 §3: binding does not need a CA; authentication here was by the assertion.
  auto cert = unverified(keys_->self_signed);
  auto r = jwt_token(sign(claims()), {}, cert);
  ASSERT_EQ(r.status, 200) << r.body;
  auto jws = jose::parse_compact(str(json_of(r.body), "access_token"), jose::kAllAlgs);
  ASSERT_TRUE(jws);
  EXPECT_EQ(str(json_of(jws->payload).at("cnf").as_object(), "x5t#S256"), cert->x5t_s256);
}

TEST_F(ClientAuth, IntrospectionAcceptsPrivateKeyJwt) {
  auto issued = jwt_token(sign(claims()));
  ASSERT_EQ(issued.status, 200) << issued.body;
  auto at = str(json_of(issued.body), "access_token");
  auto r = call(post("/introspect", "token=" + at + assertion_params(sign(claims())), partner_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json_of(r.body).at("active").as_bool()) << r.body;  // its own token
  // Without the assertion the same request is refused, not answered inactive.
  expect_invalid_client(call(post("/introspect", "client_id=jwt-client&token=" + at, partner_)));
}

// ---- private_key_jwt: refused (fapi-requirements N-55..N-60) ---------------------------------

TEST_F(ClientAuth, NoAssertionIsInvalidClient) {  // N-55
  expect_invalid_client(token("grant_type=client_credentials&client_id=jwt-client", partner_));
}

TEST_F(ClientAuth, Rs256SignedAssertionIsInvalidClient) {  // N-56
  auto payload = boost::json::serialize(claims());
  std::string header = R"({"alg":"RS256","kid":"rsa"})";
  std::string input = b64(header) + "." + b64(payload);
  auto r = jwt_token(input + "." + b64(rs256_sign(keys_->rsa, input)));
  expect_invalid_client(r);
  EXPECT_EQ(str(json_of(r.body), "error_description"),
            "the client assertion must be signed with PS256, ES256 or EdDSA");
}

TEST_F(ClientAuth, ExpiredFiveMinutesAgoIsInvalidClient) {  // N-57
  auto c = claims();
  c["iat"] = clock_.now() - 360;
  c["exp"] = clock_.now() - 300;
  auto r = jwt_token(sign(c));
  expect_invalid_client(r);
  EXPECT_EQ(str(json_of(r.body), "error_description"), "the client assertion has expired");
}

TEST_F(ClientAuth, WrongAudienceIsInvalidClient) {  // N-58
  for (const char* aud : {"https://other.example", "https://as.example/", "https://AS.example",
                          ""}) {
    auto c = claims();
    c["aud"] = aud;
    expect_invalid_client(jwt_token(sign(c)));
  }
}

TEST_F(ClientAuth, FapiTwoRefusesEndpointUrlsAndArraysAsAudience) {  // N-39, F2-10
  const std::string issuer = kIssuer;
  for (const std::string& aud : {issuer + "/token", std::string(kMtlsBase) + "/token"}) {
    auto c = claims();
    c["aud"] = aud;
    expect_invalid_client(jwt_token(sign(c)));
  }
  for (auto arr : {boost::json::array{kIssuer}, boost::json::array{kIssuer, "x"}}) {
    auto c = claims();
    c["aud"] = arr;
    expect_invalid_client(jwt_token(sign(c)));
  }
}

TEST_F(ClientAuth, MissingAudienceIsInvalidClient) {
  auto c = claims();
  c.erase("aud");
  expect_invalid_client(jwt_token(sign(c)));
}

TEST_F(ClientAuth, NoSubIsInvalidClient) {  // N-59
  auto c = claims();
  c.erase("sub");
  auto r = jwt_token(sign(c));
  expect_invalid_client(r);
  EXPECT_EQ(str(json_of(r.body), "error_description"),
            "the client assertion's sub must be the client_id");
}

TEST_F(ClientAuth, SubOtherThanClientIdIsInvalidClient) {  // N-60
  auto c = claims();
  c["sub"] = "partner-client";
  expect_invalid_client(jwt_token(sign(c)));
}

TEST_F(ClientAuth, IssOtherThanClientIdIsInvalidClient) {  // N-60
  auto c = claims();
  c["iss"] = "partner-client";
  expect_invalid_client(jwt_token(sign(c)));                        // looked up as partner-client
  expect_invalid_client(jwt_token(sign(c), "&client_id=jwt-client"));  // client_id disagrees
  c["iss"] = "nobody";
  expect_invalid_client(jwt_token(sign(c)));
}

TEST_F(ClientAuth, MissingIssIsInvalidClient) {
  auto c = claims();
  c.erase("iss");
  expect_invalid_client(jwt_token(sign(c)));
  expect_invalid_client(jwt_token(sign(c), "&client_id=jwt-client"));
}

TEST_F(ClientAuth, ClientIdParameterOfAnotherClientIsInvalidClient) {  // N-53
  expect_invalid_client(jwt_token(sign(claims()), "&client_id=partner-client"));
}

TEST_F(ClientAuth, ReplayedJtiIsInvalidClient) {
  auto a = sign(claims());
  ASSERT_EQ(jwt_token(a).status, 200);
  auto r = jwt_token(a);
  expect_invalid_client(r);
  EXPECT_EQ(str(json_of(r.body), "error_description"), "the client assertion was already used");
  // The same jti in a freshly signed assertion is a replay too.
  auto c = claims();
  auto again = claims();
  again["jti"] = c["jti"];
  ASSERT_EQ(jwt_token(sign(c)).status, 200);
  expect_invalid_client(jwt_token(sign(again)));
}

TEST_F(ClientAuth, ReplayIsRefusedAcrossARestart) {
  auto a = sign(claims());
  ASSERT_EQ(jwt_token(a).status, 200);
  service_.reset();
  store_.reset();
  open_store();
  start(settings());
  clock_.advance(20);
  expect_invalid_client(jwt_token(a));
}

TEST_F(ClientAuth, ReplayWithinTheExpiryLeewayIsStillRefused) {
  auto a = sign(claims());
  ASSERT_EQ(jwt_token(a).status, 200);
  clock_.advance(60 + 29);  // past exp, within the leeway: the jti must still be remembered
  expect_invalid_client(jwt_token(a));
}

TEST_F(ClientAuth, RefusedAssertionDoesNotBurnItsJti) {
  auto c = claims();
  c["aud"] = "https://other.example";
  expect_invalid_client(jwt_token(sign(c)));
  c["aud"] = kIssuer;
  EXPECT_EQ(jwt_token(sign(c)).status, 200);  // same jti, now valid: its first use
}

TEST_F(ClientAuth, AlgNoneIsInvalidClient) {
  expect_invalid_client(
      jwt_token(raw_jws(R"({"alg":"none"})", boost::json::serialize(claims()), "")));
  expect_invalid_client(
      jwt_token(b64(R"({"alg":"none"})") + "." + b64(boost::json::serialize(claims())) + "."));
}

TEST_F(ClientAuth, Hs256WithThePublicKeyAsSecretIsInvalidClient) {
  auto payload = boost::json::serialize(claims());
  std::string header = R"({"alg":"HS256","kid":"ec"})";
  std::string input = b64(header) + "." + b64(payload);
  for (const std::string& secret :
       {keys_->ec.public_pem(), jose::to_json_string(jose::make_jwk(keys_->ec.public_only(), "ec",
                                                                    jose::Alg::ES256))}) {
    expect_invalid_client(jwt_token(input + "." + b64(hmac_sha256(secret, input))));
  }
}

TEST_F(ClientAuth, KeyNotRegisteredForTheClientIsInvalidClient) {
  expect_invalid_client(jwt_token(sign(claims(), keys_->stranger, jose::Alg::ES256, "ec")));
  expect_invalid_client(jwt_token(sign(claims(), keys_->stranger, jose::Alg::ES256, "other")));
  expect_invalid_client(jwt_token(sign(claims(), keys_->stranger, jose::Alg::ES256, "")));
}

TEST_F(ClientAuth, AlgNotFittingTheKidIsInvalidClient) {
  // The kid names the EC key; an EdDSA signature by another key must not be tried against it.
  expect_invalid_client(jwt_token(sign(claims(), keys_->ed, jose::Alg::EdDSA, "ec")));
}

TEST_F(ClientAuth, TamperedPayloadIsInvalidClient) {
  auto a = sign(claims());
  auto dot1 = a.find('.');
  auto dot2 = a.find('.', dot1 + 1);
  auto c = claims();
  c["sub"] = "jwt-client";
  auto forged = a.substr(0, dot1 + 1) + b64(boost::json::serialize(c)) + a.substr(dot2);
  expect_invalid_client(jwt_token(forged));
}

TEST_F(ClientAuth, MissingExpIsInvalidClient) {
  auto c = claims();
  c.erase("exp");
  expect_invalid_client(jwt_token(sign(c)));
}

TEST_F(ClientAuth, ExpTooFarAheadIsInvalidClient) {
  auto c = claims();
  c["exp"] = clock_.now() + 3600;
  expect_invalid_client(jwt_token(sign(c)));
  c.erase("iat");  // bounded from now too, without iat
  expect_invalid_client(jwt_token(sign(c)));
}

TEST_F(ClientAuth, NbfOrIatOverAMinuteAheadIsInvalidClient) {  // N-40
  auto c = claims();
  c["nbf"] = clock_.now() + 70;
  c["exp"] = clock_.now() + 200;
  expect_invalid_client(jwt_token(sign(c)));
  c = claims();
  c["iat"] = clock_.now() + 70;
  c["exp"] = clock_.now() + 200;
  expect_invalid_client(jwt_token(sign(c)));
}

TEST_F(ClientAuth, WrongClaimTypesAreInvalidClient) {
  for (const char* name : {"exp", "iat", "nbf"}) {
    auto c = claims();
    c[name] = "soon";
    expect_invalid_client(jwt_token(sign(c))) ;
  }
  auto c = claims();
  c["sub"] = 42;
  expect_invalid_client(jwt_token(sign(c)));
}

TEST_F(ClientAuth, MissingEmptyOrOverlongJtiIsInvalidClient) {
  auto c = claims();
  c.erase("jti");
  expect_invalid_client(jwt_token(sign(c)));
  c["jti"] = "";
  expect_invalid_client(jwt_token(sign(c)));
  c["jti"] = std::string(257, 'j');
  expect_invalid_client(jwt_token(sign(c)));
  c["jti"] = 12345;
  expect_invalid_client(jwt_token(sign(c)));
}

TEST_F(ClientAuth, WrongOrMissingAssertionTypeIsInvalidClient) {
  auto a = sign(claims());
  expect_invalid_client(token("grant_type=client_credentials&client_assertion=" + a, partner_));
  expect_invalid_client(token(
      "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-"
      "assertion-type%3Asaml2-bearer&client_assertion=" + a, partner_));
  expect_invalid_client(token("grant_type=client_credentials&client_assertion_type=&client_assertion=" + a, partner_));
}

TEST_F(ClientAuth, AssertionTypeWithoutAssertionIsInvalidClient) {
  expect_invalid_client(token("grant_type=client_credentials&client_id=jwt-client" +
                                  assertion_params(""), partner_));
  expect_invalid_client(token(std::string("grant_type=client_credentials&client_id=jwt-client") +
                                  "&client_assertion_type=" + core::percent_encode(kJwtBearer),
                              partner_));
}

TEST_F(ClientAuth, GarbageAssertionsAreInvalidClient) {
  for (const std::string& junk :
       {std::string("abc"), std::string("a.b.c"), std::string("..."),
        b64(R"({"alg":"ES256"})") + "." + b64("not json") + "." + b64("sig"),
        b64("[]") + "." + b64("{}") + "." + b64("sig"), std::string(20000, 'a')}) {
    expect_invalid_client(jwt_token(junk));
  }
}

TEST_F(ClientAuth, RepeatedAssertionParameterIsInvalidRequest) {
  auto a = sign(claims());
  expect_oauth_error(jwt_token(a, "&client_assertion=" + a), 400, "invalid_request");
}

TEST_F(ClientAuth, ClientSecretAlongsideTheAssertionIsInvalidClient) {
  expect_invalid_client(jwt_token(sign(claims()), "&client_secret=s3cret"));
  auto req = post("/token", "grant_type=client_credentials" + assertion_params(sign(claims())),
                  partner_);
  req.headers.add("Authorization", "Basic and0LWNsaWVudDpzM2NyZXQ=");
  expect_invalid_client(call(std::move(req)));
}

TEST_F(ClientAuth, ValidAssertionWithoutACertificateGetsNoToken) {
  // FAPI: the token must be sender-constrained; there is nothing to bind it to (N-54).
  auto r = jwt_token(sign(claims()), {}, nullptr, false);
  expect_invalid_client(r);
}

TEST_F(ClientAuth, CertificateAloneDoesNotAuthenticateAPrivateKeyJwtClient) {
  expect_invalid_client(token("grant_type=client_credentials&client_id=jwt-client", partner_));
  expect_invalid_client(token("grant_type=client_credentials&client_id=jwt-client",
                              unverified(keys_->self_signed)));
}

// ---- one method per client -------------------------------------------------------------------

TEST_F(ClientAuth, TlsClientSendingAnAssertionIsInvalidClient) {
  // Even a well-formed assertion "for" partner-client, signed by a key it never registered.
  auto c = claims("partner-client");
  auto r = jwt_token(sign(c), "&client_id=partner-client");
  expect_invalid_client(r);
  EXPECT_EQ(str(json_of(r.body), "error_description"), "client authentication method not allowed");
  // And the certificate that would otherwise authenticate it does not rescue the request.
  expect_invalid_client(jwt_token(sign(c)));
}

TEST_F(ClientAuth, SelfSignedClientSendingAnAssertionIsInvalidClient) {
  expect_invalid_client(jwt_token(sign(claims("self-signed-client")), {},
                                  unverified(keys_->self_signed)));
}

// ---- tls_client_auth needs the chain ---------------------------------------------------------

TEST_F(ClientAuth, TlsClientAuthWithAnUnverifiedCertificateIsInvalidClient) {
  // Same DER as the CA-issued partner certificate, but the TLS layer could not chain it.
  auto copy = std::make_shared<http::PeerCertificate>(*partner_);
  copy->chain_verified = false;
  expect_invalid_client(token("grant_type=client_credentials&client_id=partner-client", copy));
  EXPECT_EQ(token("grant_type=client_credentials&client_id=partner-client", partner_).status, 200);
}

TEST_F(ClientAuth, SelfSignedCertificateForgingAPartnerSubjectIsInvalidClient) {
  auto forged = unverified(keys_->forged_partner);
  ASSERT_TRUE(crypto::subject_dn_equal(forged->subject_dn, "CN=partner-client,O=fapigate"))
      << forged->subject_dn;
  expect_invalid_client(token("grant_type=client_credentials&client_id=partner-client", forged));
}

// ---- self_signed_tls_client_auth (RFC 8705 §2.2) --------------------------------------------

TEST_F(ClientAuth, RegisteredSelfSignedCertificateAuthenticates) {
  auto cert = unverified(keys_->self_signed);
  auto r = token("grant_type=client_credentials&client_id=self-signed-client", cert);
  ASSERT_EQ(r.status, 200) << r.body;
  auto jws = jose::parse_compact(str(json_of(r.body), "access_token"), jose::kAllAlgs);
  ASSERT_TRUE(jws);
  EXPECT_EQ(str(json_of(jws->payload).at("cnf").as_object(), "x5t#S256"), cert->x5t_s256);
}

TEST_F(ClientAuth, RegisteredBareKeyAuthenticatesItsCertificate) {
  EXPECT_EQ(token("grant_type=client_credentials&client_id=self-signed-bare",
                  unverified(keys_->self_signed_bare))
                .status,
            200);
}

TEST_F(ClientAuth, UnregisteredSelfSignedCertificateIsInvalidClient) {  // M-03
  expect_invalid_client(token("grant_type=client_credentials&client_id=self-signed-client",
                              unverified(keys_->forged_partner)));
  // Another client's registered certificate does not count either.
  expect_invalid_client(token("grant_type=client_credentials&client_id=self-signed-client",
                              unverified(keys_->self_signed_bare)));
  expect_invalid_client(token("grant_type=client_credentials&client_id=self-signed-bare",
                              unverified(keys_->self_signed)));
}

TEST_F(ClientAuth, CaIssuedCertificateNotRegisteredIsInvalidClient) {
  expect_invalid_client(token("grant_type=client_credentials&client_id=self-signed-client",
                              partner_));
}

TEST_F(ClientAuth, SelfSignedClientWithoutCertificateIsInvalidClient) {
  expect_invalid_client(token("grant_type=client_credentials&client_id=self-signed-client",
                              nullptr));
}

TEST_F(ClientAuth, SameKeyInAnotherCertificateMatchesOnlyWithoutX5c) {
  // x5c pins the certificate: a view with the registered key but other DER bytes fails.
  auto cert = unverified(keys_->self_signed);
  auto other = std::make_shared<http::PeerCertificate>(*cert);
  other->der = peer_of(keys_->forged_partner)->der;
  store::ClientRecord rec;
  rec.client_id = "x";
  auto with_x5c = jose::make_jwk(keys_->self_signed.key.public_only(), "cert", std::nullopt);
  with_x5c.x5c = {core::base64_encode(keys_->self_signed.der)};
  rec.jwks_json = jwks_of({with_x5c});
  EXPECT_TRUE(certificate_matches_jwks(*cert, rec));
  EXPECT_FALSE(certificate_matches_jwks(*other, rec));
  rec.jwks_json = jwks_of({jose::make_jwk(keys_->self_signed.key.public_only(), "k", std::nullopt)});
  EXPECT_TRUE(certificate_matches_jwks(*cert, rec));
  // An encryption key never authenticates.
  auto enc = jose::make_jwk(keys_->self_signed.key.public_only(), "k", std::nullopt);
  enc.use = "enc";
  rec.jwks_json = jwks_of({enc});
  EXPECT_FALSE(certificate_matches_jwks(*cert, rec));
  rec.jwks_json = "";
  EXPECT_FALSE(certificate_matches_jwks(*cert, rec));
  rec.jwks_json = "not json";
  EXPECT_FALSE(certificate_matches_jwks(*cert, rec));
}

// ---- client_assertion_audience: issuer_or_endpoint (FAPI 1.0, RFC 9126 §2) -------------------

// The lenient rule is for FAPI 1.0 Advanced clients: jwt-client is one here, and
// "jwt-fapi2", the same client with the default profile, keeps the FAPI 2.0 rule.
class ClientAuthLenientAud : public ClientAuth {
protected:
  void SetUp() override {
    AsTest::SetUp();
    auto s = settings();
    s.client_assertion_audience = config::ClientAssertionAudience::IssuerOrEndpoint;
    for (auto& c : s.clients) {
      if (c.client_id == "jwt-client") {
        auto fapi2 = c;
        fapi2.client_id = "jwt-fapi2";
        c.profile = "fapi1_advanced";
        s.clients.push_back(fapi2);
        break;
      }
    }
    start(s);
  }
};

TEST_F(ClientAuthLenientAud, Fapi2ClientsKeepTheIssuerOnlyRule) {  // F2-10 overrides RFC 9126 §2
  const std::string issuer = kIssuer;
  auto ok = claims("jwt-fapi2");
  EXPECT_EQ(jwt_token(sign(ok)).status, 200);
  for (boost::json::value aud :
       {boost::json::value(issuer + "/token"), boost::json::value(std::string(kMtlsBase) + "/token"),
        boost::json::value(boost::json::array{kIssuer})}) {
    auto c = claims("jwt-fapi2");
    c["aud"] = aud;
    expect_invalid_client(jwt_token(sign(c)));
  }
}

TEST_F(ClientAuthLenientAud, IssuerTokenUrlsAndArraysAreAccepted) {  // N-38
  const std::string issuer = kIssuer;
  for (boost::json::value aud :
       {boost::json::value(issuer), boost::json::value(issuer + "/token"),
        boost::json::value(std::string(kMtlsBase) + "/token"),
        boost::json::value(boost::json::array{kIssuer, "https://junk.example"}),
        boost::json::value(boost::json::array{"https://junk.example", issuer + "/token"})}) {
    auto c = claims();
    c["aud"] = aud;
    EXPECT_EQ(jwt_token(sign(c)).status, 200) << boost::json::serialize(aud);
  }
}

TEST_F(ClientAuthLenientAud, OtherAudiencesAreStillInvalidClient) {
  const std::string issuer = kIssuer;
  for (boost::json::value aud :
       {boost::json::value("https://junk.example"), boost::json::value(issuer + "/introspect"),
        boost::json::value(boost::json::array{"https://junk.example"}),
        boost::json::value(boost::json::array{}), boost::json::value(42)}) {
    auto c = claims();
    c["aud"] = aud;
    expect_invalid_client(jwt_token(sign(c)));
  }
}

TEST_F(ClientAuthLenientAud, TheEndpointsOwnUrlIsAcceptedThere) {
  auto issued = jwt_token(sign(claims()));
  ASSERT_EQ(issued.status, 200) << issued.body;
  auto at = str(json_of(issued.body), "access_token");
  auto c = claims();
  c["aud"] = std::string(kMtlsBase) + "/introspect";
  auto r = call(post("/introspect", "token=" + at + assertion_params(sign(c)), partner_));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json_of(r.body).at("active").as_bool()) << r.body;
  // The token endpoint URL as aud is accepted at introspection as well; another endpoint's not.
  c = claims();
  c["aud"] = std::string(kIssuer) + "/revoke";
  expect_invalid_client(
      call(post("/introspect", "token=" + at + assertion_params(sign(c)), partner_)));
}

// ---- private_key_jwt at the PAR endpoint (RFC 9126 §2; FAPI 2.0 SP §5.3.2.1-8) ------------------

// A private_key_jwt client allowed the code flow, pushing its requests with an assertion.
class ClientAuthPar : public ClientAuth {
protected:
  static config::AuthorizationServer par_settings(config::ClientAssertionAudience aud) {
    auto s = settings();
    config::ClientRegistration c;
    c.client_id = "jwt-code";
    c.token_endpoint_auth_method = "private_key_jwt";
    c.jwks_file = keys_->jwt_jwks;
    c.grant_types = {"authorization_code", "client_credentials"};
    c.redirect_uris = {"https://client.example/cb"};
    c.scopes = {"accounts", "payments"};
    // The lenient rule is for FAPI 1.0 Advanced clients only (FAPI 2.0 SP §5.3.2.1-8).
    if (aud == config::ClientAssertionAudience::IssuerOrEndpoint) {
      c.profile = "fapi1_advanced";
    }
    s.clients.push_back(c);
    s.client_assertion_audience = aud;
    return s;
  }
  void SetUp() override {
    AsTest::SetUp();
    start(par_settings(config::ClientAssertionAudience::Issuer));
  }

  // RFC 7636 Appendix B challenge; the request itself is valid, only the assertion varies.
  http::Response par(const std::string& assertion,
                     std::shared_ptr<const http::PeerCertificate> cert = nullptr) {
    return call(post("/par",
                     "response_type=code&redirect_uri=" +
                         core::percent_encode("https://client.example/cb") +
                         "&scope=payments&state=s1&code_challenge="
                         "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256" +
                         assertion_params(assertion),
                     std::move(cert)));
  }
};

TEST_F(ClientAuthPar, IssuerAsAStringIsAcceptedAtPar) {  // F2-10 (control)
  EXPECT_EQ(par(sign(claims("jwt-code"))).status, 201);
  EXPECT_EQ(par(sign(claims("jwt-code")), partner_).status, 201);  // the mTLS alias
}

TEST_F(ClientAuthPar, Fapi2RefusesEndpointUrlsAndArraysAsAudienceAtPar) {  // F2-10, N-39
  const std::string issuer = kIssuer;
  const std::string mtls = kMtlsBase;
  for (boost::json::value aud :
       {boost::json::value(issuer + "/par"), boost::json::value(mtls + "/par"),
        boost::json::value(issuer + "/token"), boost::json::value(mtls + "/token"),
        boost::json::value(boost::json::array{kIssuer}),
        boost::json::value(boost::json::array{kIssuer, issuer + "/par"})}) {
    auto c = claims("jwt-code");
    c["aud"] = aud;
    expect_invalid_client(par(sign(c)));
    expect_invalid_client(par(sign(c), partner_));
  }
}

TEST_F(ClientAuthPar, Fapi2RefusesTheParUrlAsAudienceAtTheTokenEndpoint) {  // F2-10, N-39
  for (const std::string& aud :
       {std::string(kIssuer) + "/par", std::string(kMtlsBase) + "/par"}) {
    auto c = claims("jwt-code");
    c["aud"] = aud;
    expect_invalid_client(jwt_token(sign(c)));
  }
}

TEST_F(ClientAuthPar, WrongIssSubOrAudAtParIsInvalidClient) {  // N-42
  auto c = claims("jwt-code");
  c["sub"] = "jwt-client";
  expect_invalid_client(par(sign(c)));
  c = claims("jwt-code");
  c["iss"] = "jwt-client";  // looked up as jwt-client, whose sub differs
  expect_invalid_client(par(sign(c)));
  c = claims("jwt-code");
  c["aud"] = "https://other.example";
  expect_invalid_client(par(sign(c)));
  c = claims("jwt-code");
  c.erase("sub");
  expect_invalid_client(par(sign(c)));
}

TEST_F(ClientAuthPar, ExpiredReplayedOrFutureAssertionAtParIsInvalidClient) {  // N-57, N-40
  auto c = claims("jwt-code");
  c["iat"] = clock_.now() - 360;
  c["exp"] = clock_.now() - 300;
  expect_invalid_client(par(sign(c)));
  c = claims("jwt-code");
  c["nbf"] = clock_.now() + 61;
  c["exp"] = clock_.now() + 200;
  expect_invalid_client(par(sign(c)));
  const std::string once = sign(claims("jwt-code"));
  ASSERT_EQ(par(once).status, 201);
  expect_invalid_client(par(once));
  // The jti of a PAR assertion is spent at the token endpoint as well.
  expect_invalid_client(jwt_token(once));
}

TEST_F(ClientAuthPar, AlgNoneAndHmacAssertionsAtParAreInvalidClient) {  // F2-32, N-56
  const std::string payload = boost::json::serialize(claims("jwt-code"));
  expect_invalid_client(par(b64(R"({"alg":"none"})") + "." + b64(payload) + "."));
  const std::string input = b64(R"({"alg":"HS256","kid":"ec"})") + "." + b64(payload);
  expect_invalid_client(par(input + "." + b64(hmac_sha256(keys_->ec.public_pem(), input))));
  const std::string rs = b64(R"({"alg":"RS256","kid":"rsa"})") + "." + b64(payload);
  expect_invalid_client(par(rs + "." + b64(rs256_sign(keys_->rsa, rs))));
}

TEST_F(ClientAuthPar, LenientAudienceAcceptsTheParUrlAndArraysAtPar) {  // N-38, PAR-01
  service_.reset();
  start(par_settings(config::ClientAssertionAudience::IssuerOrEndpoint));
  const std::string issuer = kIssuer;
  for (boost::json::value aud :
       {boost::json::value(issuer + "/par"), boost::json::value(std::string(kMtlsBase) + "/par"),
        boost::json::value(issuer + "/token"),
        boost::json::value(boost::json::array{"https://junk.example", kIssuer})}) {
    auto c = claims("jwt-code");
    c["aud"] = aud;
    // Authenticated (not 401 invalid_client); the request itself is then refused because a
    // FAPI 1.0 client must push a signed request object (F1-01).
    auto r = par(sign(c));
    EXPECT_EQ(r.status, 400) << boost::json::serialize(aud) << r.body;
    EXPECT_EQ(str(json_of(r.body), "error"), "invalid_request") << r.body;
    EXPECT_EQ(str(json_of(r.body), "error_description"), "a signed request object is required");
  }
  auto c = claims("jwt-code");
  c["aud"] = issuer + "/introspect";
  expect_invalid_client(par(sign(c)));
}

// ---- the registered JWKS (config jwks_file) ---------------------------------------------------

class ClientJwksFile : public AsTest {
protected:
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove(file_, ec);
    AsTest::TearDown();
  }
  Result<std::shared_ptr<AsService>> create_with(const std::string& content,
                                                 std::string id_token_encryption = {}) {
    file_ = path_ + ".jwks.json";
    std::ofstream(file_, std::ios::binary) << content;
    auto s = default_settings();
    config::ClientRegistration c;
    c.client_id = "jwt-client";
    c.token_endpoint_auth_method = "private_key_jwt";
    c.id_token_encrypted_response_alg = std::move(id_token_encryption);
    c.jwks_file = file_;
    c.scopes = {"accounts"};
    s.clients.push_back(c);
    return AsService::create(s, *store_, clock_);
  }
  std::string file_;
};

TEST_F(ClientJwksFile, PublicKeysAreStoredWithoutPrivateMembers) {
  auto key = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(key);
  ASSERT_TRUE(create_with(jwks_of({jose::make_jwk(key->public_only(), "k", jose::Alg::ES256)})));
  auto rec = store_->find_client("jwt-client");
  ASSERT_TRUE(rec && *rec);
  auto parsed = jose::parse_jwks((*rec)->jwks_json);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->keys.size(), 1u);
  EXPECT_EQ(parsed->keys[0].kid, "k");
  EXPECT_FALSE(parsed->keys[0].key.is_private());
}

TEST_F(ClientJwksFile, PrivateKeyInTheJwksIsRefused) {
  auto key = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(key);
  EXPECT_FALSE(create_with(jwks_of({jose::make_jwk(*key, "k", jose::Alg::ES256)}, true)));
}

TEST_F(ClientJwksFile, MalformedEmptyOrOversizedJwksIsRefused) {
  EXPECT_FALSE(create_with("not json"));
  EXPECT_FALSE(create_with(R"({"keys":[]})"));
  EXPECT_FALSE(create_with(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})"));  // nothing usable
  EXPECT_FALSE(create_with(R"([])"));
  EXPECT_FALSE(create_with(std::string(70 * 1024, ' ') + R"({"keys":[]})"));
}

// A client's RSA key for encrypted ID tokens ("use": "enc"), public or not, in a JWKS file
// beside an ES256 signing key.
std::string signing_and_encryption_jwks(const crypto::Key& enc_key, std::string alg,
                                        bool include_private = false) {
  static const crypto::Key sig = *crypto::Key::generate(crypto::KeyType::Ec);
  auto enc = jose::to_json(jose::make_jwk(enc_key, "enc-1", std::nullopt), include_private);
  enc["use"] = "enc";
  enc["alg"] = alg;
  return boost::json::serialize(boost::json::object{
      {"keys", boost::json::array{jose::to_json(jose::make_jwk(sig.public_only(), "sig-1",
                                                               jose::Alg::ES256)),
                                  enc}}});
}

TEST_F(ClientJwksFile, TheIdTokenEncryptionKeyIsKeptBesideTheSigningKeys) {  // F1-13
  auto enc = crypto::Key::generate(crypto::KeyType::Rsa);
  ASSERT_TRUE(enc);
  ASSERT_TRUE(create_with(signing_and_encryption_jwks(enc->public_only(), "RSA-OAEP-256"),
                          "RSA-OAEP-256"));
  auto rec = store_->find_client("jwt-client");
  ASSERT_TRUE(rec && *rec);
  const std::string& stored = (*rec)->jwks_json;
  auto signing = parse_client_jwks(stored);  // what client authentication reads
  ASSERT_TRUE(signing);
  ASSERT_EQ(signing->keys.size(), 1u);
  EXPECT_EQ(signing->keys[0].kid, "sig-1");
  auto found = jose::find_encryption_key(stored, jose::KeyManagementAlg::RsaOaep256);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->kid, "enc-1");
  EXPECT_TRUE(found->key.same_public_key(*enc));
  // Without the setting the encryption key is not kept: only what the server uses is stored.
  ASSERT_TRUE(store_->delete_client("jwt-client"));
  ASSERT_TRUE(create_with(signing_and_encryption_jwks(enc->public_only(), "RSA-OAEP-256")));
  rec = store_->find_client("jwt-client");
  ASSERT_TRUE(rec && *rec);
  EXPECT_FALSE(jose::find_encryption_key((*rec)->jwks_json, jose::KeyManagementAlg::RsaOaep256));
}

TEST_F(ClientJwksFile, IdTokenEncryptionWithoutAPublicKeyForItsAlgIsRefused) {  // F1-13
  auto enc = crypto::Key::generate(crypto::KeyType::Rsa);
  ASSERT_TRUE(enc);
  // A key for the other OAEP variant, or a private key (never stored, never used).
  EXPECT_FALSE(create_with(signing_and_encryption_jwks(enc->public_only(), "RSA-OAEP"),
                           "RSA-OAEP-256"));
  EXPECT_FALSE(create_with(signing_and_encryption_jwks(*enc, "RSA-OAEP-256", true),
                           "RSA-OAEP-256"));
  EXPECT_FALSE(create_with(signing_and_encryption_jwks(enc->public_only(), "RSA-OAEP-256"),
                           "RSA1_5"));
}

TEST_F(ClientJwksFile, MissingFileIsRefused) {
  auto s = default_settings();
  config::ClientRegistration c;
  c.client_id = "jwt-client";
  c.token_endpoint_auth_method = "private_key_jwt";
  c.jwks_file = path_ + ".does-not-exist";
  s.clients.push_back(c);
  EXPECT_FALSE(AsService::create(s, *store_, clock_));
}

// ---- the parts on their own -------------------------------------------------------------------

TEST(ClientAssertionParts, PolicyWithoutAudiencesRefusesEverything) {
  store::ClientRecord rec;
  rec.client_id = "c";
  rec.jwks_json = R"({"keys":[]})";
  AssertionPolicy p;
  p.now = kNow;
  auto r = verify_client_assertion("a.b.c", rec, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, OAuthErrc::ServerError);
}

TEST(ClientAssertionParts, ClientWithoutKeysIsInvalidClient) {
  store::ClientRecord rec;
  rec.client_id = "c";
  AssertionPolicy p;
  p.now = kNow;
  p.audiences = {kIssuer};
  auto r = verify_client_assertion("a.b.c", rec, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, OAuthErrc::InvalidClient);
}

TEST(ClientAssertionParts, SupportedMethodsAreExactlyTheFapiOnes) {
  EXPECT_EQ(supported_client_auth_methods(),
            (std::vector<std::string>{"private_key_jwt", "tls_client_auth",
                                      "self_signed_tls_client_auth"}));
}

}  // namespace
}  // namespace fapigate::as::test
