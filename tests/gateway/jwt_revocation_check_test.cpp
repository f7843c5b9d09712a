// Revocation of JWT access tokens at the gateway (FAPI 1.0 Part 1 §6.2.1, FAPI 2.0 SP
// §5.3.4): with jwt_revocation_check an issuer's verified JWTs are also introspected (signed
// RFC 9701 answer), an "active" answer is trusted for that many seconds, and a revoked token is
// refused once it runs out. Without the setting a JWT is trusted until its exp and the issuer
// is never asked.
#include "gateway_fixture.hpp"

#include "core/strings.hpp"

namespace fapigate::gw::test {
namespace {

constexpr const char* kIntrospectA = "https://as-a.example:8444/introspect";
constexpr const char* kGatewayClient = "gateway-client";
constexpr std::int64_t kInterval = 30;

class JwtRevocationCheck : public GatewayTest {
protected:
  void SetUp() override {
    GatewayTest::SetUp();
    active_ = true;
    fake_->on(kIntrospectA, [this](const http::ClientRequest& req) -> Result<http::Response> {
      last_form_ = req.body;
      return answer_(req);
    });
    answer_ = [this](const http::ClientRequest&) { return signed_answer(); };
  }

  static config::Gateway settings() {
    auto g = default_settings();
    auto& a = g.issuers[0];  // kIssA; kIssB keeps the default (no check)
    a.jwt_revocation_check = kInterval;
    a.introspection_endpoint = kIntrospectA;
    a.introspection_client_id = kGatewayClient;
    a.introspection_inactive_cache = 10;
    return g;
  }

  // The AS's RFC 9701 answer about the token: the claims it knows, "active" as set.
  Result<http::Response> signed_answer(const SigningKey* key = nullptr) const {
    boost::json::object intro{{"active", active_}};
    if (active_) {
      intro["iss"] = kIssA;
      intro["client_id"] = "partner-client";
    }
    boost::json::object outer{{"iss", kIssA},
                              {"aud", kGatewayClient},
                              {"iat", clock_.now()},
                              {"token_introspection", intro}};
    http::Response r;
    r.status = 200;
    r.body = sign(outer, key ? *key : data_->a_ec, "token-introspection+jwt");
    r.headers.add("Content-Type", "application/token-introspection+jwt");
    return r;
  }

  std::size_t introspections() const { return fake_->count(kIntrospectA); }

  bool active_ = true;
  std::function<Result<http::Response>(const http::ClientRequest&)> answer_;
  std::string last_form_;
};

TEST_F(JwtRevocationCheck, ActiveTokenIsAskedAboutOncePerIntervalAndForwardedAsItIs) {
  start(settings());
  const std::string token = good_token();
  ASSERT_EQ(call(pay(token)).status, 201);
  EXPECT_EQ(introspections(), 1u);
  auto form = core::parse_form(last_form_);
  ASSERT_TRUE(form);
  EXPECT_EQ(form->at("token"), token);
  EXPECT_EQ(form->at("token_type_hint"), "access_token");
  EXPECT_EQ(form->at("client_id"), kGatewayClient);
  // The upstream gets the JWT itself, not the introspection answer.
  EXPECT_EQ(fake_->requests(kUpstream).back().headers.get("Authorization").value_or(""),
            "Bearer " + token);

  clock_.advance(kInterval - 1);
  ASSERT_EQ(call(pay(token)).status, 201);
  EXPECT_EQ(introspections(), 1u) << "within the interval the cached answer holds";
  clock_.advance(1);
  ASSERT_EQ(call(pay(token)).status, 201);
  EXPECT_EQ(introspections(), 2u) << "after it the issuer is asked again";
}

TEST_F(JwtRevocationCheck, TokenRevokedAtTheIssuerIsRefusedOnceTheIntervalRunsOut) {
  start(settings());
  const std::string token = good_token();
  ASSERT_EQ(call(pay(token)).status, 201);
  active_ = false;  // revoked at the AS
  ASSERT_EQ(call(pay(token)).status, 201) << "the last active answer still holds";
  clock_.advance(kInterval);
  expect_refused(call(pay(token)), 401, invalid_token("the access token is not active"));
  EXPECT_EQ(introspections(), 2u);
  // The inactive answer is remembered for introspection_inactive_cache, then asked again.
  expect_refused(call(pay(token)), 401, invalid_token("the access token is not active"));
  EXPECT_EQ(introspections(), 2u);
  clock_.advance(11);
  expect_refused(call(pay(token)), 401, invalid_token("the access token is not active"));
  EXPECT_EQ(introspections(), 3u);
}

// An active answer never outlives the token: with an interval longer than the token's remaining
// life, the token is still refused once it expires.
TEST_F(JwtRevocationCheck, ActiveAnswerHoldsNoLongerThanTheToken) {
  auto s = settings();
  s.issuers[0].jwt_revocation_check = 600;
  start(s);
  auto c = claims();
  c["exp"] = clock_.now() + 20;
  const std::string token = sign(c, data_->a_ec);
  ASSERT_EQ(call(pay(token)).status, 201);
  clock_.advance(31);  // exp + 11: past the 10 s clock skew
  expect_refused(call(pay(token)), 401, invalid_token("the access token expired"));
}

TEST_F(JwtRevocationCheck, NoTrustworthyAnswerRefusesWith503) {
  start(settings());
  int n = 0;
  auto expect_503 = [&](const std::string& why) {
    auto r = call(pay(good_token()));  // a fresh token each time: nothing cached
    expect_refused(r, 503, "");
    EXPECT_EQ(error_of(r), "introspection_unavailable") << why;
    EXPECT_EQ(introspections(), static_cast<std::size_t>(++n)) << why;
  };
  answer_ = [](const http::ClientRequest&) {
    return Result<http::Response>(http::Response::json(200, R"({"active":true})"));
  };
  expect_503("an unsigned answer is not believed");
  answer_ = [this](const http::ClientRequest&) { return signed_answer(&data_->b_ec); };
  expect_503("signed by another issuer's key");
  answer_ = [](const http::ClientRequest&) {
    return Result<http::Response>(http::Response::json(500, R"({"error":"server_error"})"));
  };
  expect_503("the issuer fails");
  answer_ = [](const http::ClientRequest&) {
    return Result<http::Response>(make_error_code(boost::system::errc::connection_refused));
  };
  expect_503("the issuer is down");
  EXPECT_EQ(fake_->count(kUpstream), 0u) << "nothing reached the upstream";
}

TEST_F(JwtRevocationCheck, OnlyTheConfiguredIssuerIsAskedAndOnlyAboutGoodTokens) {
  start(settings());
  // Issuer B has no revocation check: its token is trusted until exp.
  ASSERT_EQ(call(request("GET", "/b-only", sign(claims(kIssB), data_->b_ec), cert1_)).status, 201);
  EXPECT_EQ(introspections(), 0u);
  // A token that fails locally is refused before the issuer is asked.
  auto bad = claims();
  bad["aud"] = "https://somebody-else.example";
  expect_refused(call(pay(sign(bad, data_->a_ec))), 401,
                 invalid_token("the token audience does not include this API"));
  auto stolen = pay(good_token());
  stolen.peer_certificate = cert2_;
  expect_refused(call(std::move(stolen)), 401,
                 invalid_token("the access token is bound to another certificate"));
  EXPECT_EQ(introspections(), 1u) << "the bound token was good; only its binding failed";
}

}  // namespace
}  // namespace fapigate::gw::test
