// Phantom tokens: an opaque access token is introspected at its issuer (RFC 7662) asking for the
// signed RFC 9701 answer, which is verified with the issuer's keys, cached until the token's exp
// (inactive answers briefly), and forwarded upstream in place of the opaque token.
#include "gateway_fixture.hpp"

#include "core/strings.hpp"

namespace fapigate::gw::test {
namespace {

constexpr const char* kIssO = "https://as-o.example";
constexpr const char* kJwksO = "https://as-o.example/jwks";
constexpr const char* kIntrospect = "https://as-o.example:8444/introspect";
constexpr const char* kGatewayClient = "gateway-client";
constexpr const char* kOpaque = "opaque-ref-token_0123456789abcdefghijklmnopqrstuvwxyz";

class PhantomToken : public GatewayTest {
protected:
  void SetUp() override {
    GatewayTest::SetUp();
    fake_->respond_json(kJwksO, 200, jwks_json({&data_->b_ec}));
    introspection_ = active();
    fake_->on(kIntrospect, [this](const http::ClientRequest& req) -> Result<http::Response> {
      last_form_ = req.body;
      last_accept_ = std::string(req.headers.get("Accept").value_or(""));
      return answer_(req);
    });
    answer_ = [this](const http::ClientRequest&) { return jwt_answer(introspection_); };
  }

  static config::Gateway settings() {
    auto g = default_settings();
    auto o = issuer(kIssO, kJwksO);
    o.opaque_tokens = true;
    o.introspection_endpoint = kIntrospect;
    o.introspection_client_id = kGatewayClient;
    o.introspection_inactive_cache = 10;
    g.issuers.push_back(o);
    return g;
  }

  boost::json::object active() const {
    auto c = claims(kIssO);
    c["active"] = true;
    return c;
  }

  // The RFC 9701 answer as the AS sends it.
  http::Response jwt_answer(const boost::json::object& intro, const SigningKey* key = nullptr,
                            std::string typ = "token-introspection+jwt",
                            std::string aud = kGatewayClient) const {
    boost::json::object outer{{"iss", kIssO},
                              {"aud", aud},
                              {"iat", clock_.now()},
                              {"token_introspection", intro}};
    http::Response r;
    r.status = 200;
    r.body = sign(outer, key ? *key : data_->b_ec, typ);
    r.headers.add("Content-Type", "application/token-introspection+jwt");
    return r;
  }

  std::size_t introspections() const { return fake_->count(kIntrospect); }

  boost::json::object introspection_;
  std::function<Result<http::Response>(const http::ClientRequest&)> answer_;
  std::string last_form_;
  std::string last_accept_;
};

TEST_F(PhantomToken, ActiveOpaqueTokenReachesTheUpstreamAsTheIssuersJwt) {
  start(settings());
  auto r = call(pay(kOpaque));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(introspections(), 1u);
  EXPECT_EQ(last_accept_, "application/token-introspection+jwt");
  auto form = core::parse_form(last_form_);
  ASSERT_TRUE(form);
  EXPECT_EQ(form->at("token"), kOpaque);
  EXPECT_EQ(form->at("token_type_hint"), "access_token");
  EXPECT_EQ(form->at("client_id"), kGatewayClient);
  auto up = fake_->requests(kUpstream).back();
  auto auth = std::string(up.headers.get("Authorization").value_or(""));
  EXPECT_EQ(auth.find(kOpaque), std::string::npos) << "the opaque token must never go upstream";
  EXPECT_EQ(auth.rfind("Bearer ey", 0), 0u) << auth;
  EXPECT_EQ(std::count(auth.begin(), auth.end(), '.'), 2);
}

// With upstream_token: gateway the upstream gets neither the opaque token nor the issuer's
// introspection answer, but a token the gateway signed from the introspected claims.
TEST_F(PhantomToken, GatewaySignedUpstreamTokenReplacesTheIntrospectionAnswer) {
  auto s = settings();
  auto key = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(key);
  config::UpstreamTokenSigning signing;
  signing.key_file = temp_file("phantom-upstream.pem", key->private_pem());
  signing.issuer = "https://gateway.bank.example";
  s.upstream_token_signing = signing;
  for (auto& r : s.routes) {
    if (r.name == "payments") {
      r.upstream_token = config::UpstreamToken::Gateway;
    }
  }
  start(s);
  ASSERT_EQ(call(pay(kOpaque)).status, 201);
  auto auth = std::string(fake_->requests(kUpstream).back().headers.get("Authorization")
                              .value_or(""));
  ASSERT_EQ(auth.rfind("Bearer ", 0), 0u);
  auto jwks = jose::parse_jwks(service_->upstream_jwks());
  ASSERT_TRUE(jwks);
  jose::VerifierSet keys(*jwks);
  auto jws = jose::verify_compact(auth.substr(7), jose::kAllAlgs, keys);
  ASSERT_TRUE(jws) << "not signed by the gateway's upstream key";
  auto c = core::parse_json_object(jws->payload);
  ASSERT_TRUE(c);
  EXPECT_EQ(core::get_string(*c, "token_iss").value_or(""), kIssO);
  EXPECT_EQ(core::get_string(*c, "aud").value_or(""), "payments");  // the route name by default
  EXPECT_EQ(core::get_string(*c, "sub").value_or(""), "partner-client");
  EXPECT_FALSE(core::get_object(*c, "token_introspection"));
}

TEST_F(PhantomToken, ActiveResultIsCachedUntilExp) {
  start(settings());
  ASSERT_EQ(call(pay(kOpaque)).status, 201);
  ASSERT_EQ(call(pay(kOpaque)).status, 201);
  EXPECT_EQ(introspections(), 1u);
  clock_.advance(301);  // past exp: asked again; still within the 10 s clock skew
  ASSERT_EQ(call(pay(kOpaque)).status, 201);
  EXPECT_EQ(introspections(), 2u);
  clock_.advance(10);  // exp + 11: expired
  expect_refused(call(pay(kOpaque)), 401, invalid_token("the access token expired"));
  EXPECT_EQ(introspections(), 3u);
}

TEST_F(PhantomToken, InactiveIs401AndCachedBriefly) {
  introspection_ = boost::json::object{{"active", false}};
  start(settings());
  expect_refused(call(pay(kOpaque)), 401, invalid_token("the access token is not active"));
  expect_refused(call(pay(kOpaque)), 401, invalid_token("the access token is not active"));
  EXPECT_EQ(introspections(), 1u);
  clock_.advance(11);
  expect_refused(call(pay(kOpaque)), 401, invalid_token("the access token is not active"));
  EXPECT_EQ(introspections(), 2u);
}

TEST_F(PhantomToken, BindingScopeAndAudienceAreEnforcedOnTheIntrospectedToken) {
  start(settings());
  auto stolen = pay(kOpaque);
  stolen.peer_certificate = cert2_;
  expect_refused(call(std::move(stolen)), 401,
                 invalid_token("the access token is bound to another certificate"));
  auto c = active();
  c["scope"] = "accounts";
  introspection_ = c;
  expect_refused(call(pay("another-opaque-token-1")), 403,
                 challenge("insufficient_scope", "the access token lacks a required scope") +
                     ", scope=\"payments\"");
  c = active();
  c["aud"] = "https://somebody-else.example";
  introspection_ = c;
  expect_refused(call(pay("another-opaque-token-2")), 401,
                 invalid_token("the token audience does not include this API"));
  c = active();
  c.erase("cnf");
  introspection_ = c;
  expect_refused(call(pay("another-opaque-token-3")), 401,
                 invalid_token("the access token is not bound to a certificate"));
}

TEST_F(PhantomToken, UntrustworthyAnswersAre503) {
  start(settings());
  const std::string unavailable = "introspection_unavailable";
  int n = 0;
  auto expect_503 = [&](const std::string& why) {
    auto r = call(pay("opaque-" + std::to_string(++n)));
    expect_refused(r, 503, "");
    EXPECT_EQ(error_of(r), unavailable) << why;
  };
  answer_ = [this](const http::ClientRequest&) {
    return Result<http::Response>(http::Response::json(200, boost::json::serialize(introspection_)));
  };
  expect_503("plain JSON: nothing but the opaque token to forward");
  answer_ = [this](const http::ClientRequest&) {
    return Result<http::Response>(jwt_answer(introspection_, &data_->a_ec));
  };
  expect_503("signed by another issuer's key");
  answer_ = [this](const http::ClientRequest&) {
    return Result<http::Response>(jwt_answer(introspection_, nullptr, "at+jwt"));
  };
  expect_503("not typ token-introspection+jwt");
  answer_ = [this](const http::ClientRequest&) {
    return Result<http::Response>(jwt_answer(introspection_, nullptr,
                                             "token-introspection+jwt", "someone-else"));
  };
  expect_503("answer addressed to another resource server");
  answer_ = [](const http::ClientRequest&) {
    return Result<http::Response>(http::Response::json(401, R"({"error":"invalid_client"})"));
  };
  expect_503("the issuer refused our client authentication");
  answer_ = [](const http::ClientRequest&) {
    return Result<http::Response>(make_error_code(boost::system::errc::connection_refused));
  };
  expect_503("issuer unreachable");
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

TEST_F(PhantomToken, OpaqueTokenWithoutAnOpaqueIssuerIsMalformed) {
  start();
  expect_refused(call(pay(kOpaque)), 401, invalid_token("the access token is malformed"));
  EXPECT_EQ(introspections(), 0u);
}

TEST_F(PhantomToken, OversizedOpaqueTokenIsNeverSent) {
  start(settings());
  expect_refused(call(pay(std::string(5000, 'a'))), 401,
                 invalid_token("the access token is malformed"));
  EXPECT_EQ(introspections(), 0u);
}

TEST_F(PhantomToken, JwtsStillVerifyLocally) {
  start(settings());
  EXPECT_EQ(call(pay(good_token())).status, 201);
  EXPECT_EQ(introspections(), 0u);
}

}  // namespace
}  // namespace fapigate::gw::test
