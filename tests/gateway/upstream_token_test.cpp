// Gateway-signed upstream tokens (route upstream_token: gateway): what the upstream receives
// verifies with the key the admin listener publishes, is cut to the route's audience and to the
// incoming token's life, never is the incoming token, and is signed once per token and audience.
#include "gateway_fixture.hpp"

#include "core/strings.hpp"

namespace fapigate::gw::test {
namespace {

constexpr const char* kGatewayIss = "https://gateway.bank.example";
constexpr const char* kAccountsAud = "https://accounts.internal";

class UpstreamTokens : public GatewayTest {
protected:
  // The accounts route gets gateway-signed tokens; payments keeps the incoming one.
  config::Gateway with_signing(const std::string& key_file, std::int64_t lifetime = 60) {
    auto g = default_settings();
    config::UpstreamTokenSigning signing;
    signing.key_file = key_file;
    signing.issuer = kGatewayIss;
    signing.lifetime = lifetime;
    g.upstream_token_signing = signing;
    for (auto& r : g.routes) {
      if (r.name == "accounts") {
        r.upstream_token = config::UpstreamToken::Gateway;
        r.upstream_audience = kAccountsAud;
      }
    }
    return g;
  }

  std::string ec_key_file() {
    auto key = crypto::Key::generate(crypto::KeyType::Ec);
    EXPECT_TRUE(key);
    return temp_file("upstream-ec.pem", key->private_pem());
  }

  // The bearer the upstream received on the last accounts call.
  std::string forwarded_bearer() {
    auto all = fake_->requests(kUpstream);
    EXPECT_FALSE(all.empty());
    if (all.empty()) {
      return {};
    }
    auto auth = all.back().headers.get("Authorization");
    EXPECT_TRUE(auth);
    std::string_view v = auth ? *auth : std::string_view();
    EXPECT_EQ(v.substr(0, 7), "Bearer ");
    return std::string(v.size() > 7 ? v.substr(7) : std::string_view());
  }

  // Verified with the published JWKS only, as an upstream would.
  boost::json::object verify_as_upstream(const std::string& jwt) {
    auto jwks = jose::parse_jwks(service_->upstream_jwks());
    EXPECT_TRUE(jwks) << service_->upstream_jwks();
    if (!jwks) {
      return {};
    }
    jose::VerifierSet keys(*jwks);
    auto jws = jose::verify_compact(jwt, jose::kAllAlgs, keys);
    EXPECT_TRUE(jws) << (jws ? "" : jws.error().message());
    if (!jws) {
      return {};
    }
    EXPECT_TRUE(jose::check_typ(*jws, "at+jwt"));
    auto claims = core::parse_json_object(jws->payload);
    EXPECT_TRUE(claims);
    return claims ? *claims : boost::json::object{};
  }
};

TEST_F(UpstreamTokens, UpstreamReceivesAGatewaySignedTokenNotTheIncomingOne) {
  start(with_signing(ec_key_file()));
  const std::string incoming = good_token();
  ASSERT_EQ(call(request("GET", "/accounts/1", incoming, cert1_)).status, 201);
  const std::string jwt = forwarded_bearer();
  EXPECT_NE(jwt, incoming);
  auto c = verify_as_upstream(jwt);
  EXPECT_EQ(core::get_string(c, "iss").value_or(""), kGatewayIss);
  EXPECT_EQ(core::get_string(c, "aud").value_or(""), kAccountsAud);
  EXPECT_EQ(core::get_string(c, "sub").value_or(""), "partner-client");
  EXPECT_EQ(core::get_string(c, "client_id").value_or(""), "partner-client");
  EXPECT_EQ(core::get_string(c, "scope").value_or(""), "accounts payments");
  EXPECT_EQ(core::get_string(c, "token_iss").value_or(""), kIssA);
  EXPECT_FALSE(core::get_string(c, "jti").value_or("").empty());
  const auto* cnf = core::get_object(c, "cnf");
  ASSERT_TRUE(cnf);
  EXPECT_EQ(core::get_string(*cnf, "x5t#S256").value_or(""), cert1_->x5t_s256);
  EXPECT_EQ(core::get_int(c, "iat").value_or(0), clock_.now());
  EXPECT_EQ(core::get_int(c, "exp").value_or(0), clock_.now() + 60);
}

TEST_F(UpstreamTokens, ExpiryNeverOutlivesTheIncomingToken) {
  start(with_signing(ec_key_file(), 600));
  auto c = claims();
  c["exp"] = clock_.now() + 20;
  ASSERT_EQ(call(request("GET", "/accounts/1", sign(c, data_->a_ec), cert1_)).status, 201);
  auto got = verify_as_upstream(forwarded_bearer());
  EXPECT_EQ(core::get_int(got, "exp").value_or(0), clock_.now() + 20);
}

TEST_F(UpstreamTokens, SignedOncePerTokenAndReusedUntilNearItsExpiry) {
  start(with_signing(ec_key_file()));
  const std::string incoming = good_token();
  ASSERT_EQ(call(request("GET", "/accounts/1", incoming, cert1_)).status, 201);
  const std::string first = forwarded_bearer();
  ASSERT_EQ(call(request("GET", "/accounts/2", incoming, cert1_)).status, 201);
  EXPECT_EQ(forwarded_bearer(), first) << "a repeat call must not sign again";
  ASSERT_EQ(call(request("GET", "/accounts/1", good_token(), cert1_)).status, 201);
  EXPECT_NE(forwarded_bearer(), first) << "another token, another upstream token";
  // Lifetime 60 s, reused until 10 s before its exp.
  clock_.advance(49);
  ASSERT_EQ(call(request("GET", "/accounts/1", incoming, cert1_)).status, 201);
  EXPECT_EQ(forwarded_bearer(), first);
  clock_.advance(2);
  ASSERT_EQ(call(request("GET", "/accounts/1", incoming, cert1_)).status, 201);
  const std::string renewed = forwarded_bearer();
  EXPECT_NE(renewed, first);
  EXPECT_EQ(core::get_int(verify_as_upstream(renewed), "exp").value_or(0), clock_.now() + 60);
}

TEST_F(UpstreamTokens, OtherRoutesStillForwardTheIncomingToken) {
  start(with_signing(ec_key_file()));
  const std::string incoming = good_token();
  ASSERT_EQ(call(pay(incoming)).status, 201);
  auto all = fake_->requests(kUpstream);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back().headers.get("Authorization").value_or(""), "Bearer " + incoming);
}

TEST_F(UpstreamTokens, JwksPublishesOnlyThePublicKeyWithTheConfiguredKid) {
  auto key = crypto::Key::generate(crypto::KeyType::Rsa);
  ASSERT_TRUE(key);
  auto s = with_signing(temp_file("upstream-rsa.json",
                                  jose::to_json_string(jose::make_jwk(*key, "", std::nullopt),
                                                       /*include_private=*/true)));
  s.upstream_token_signing->kid = "gw-2026";
  start(s);
  const std::string jwks = service_->upstream_jwks();
  for (const char* m : {"\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"dq\"", "\"qi\""}) {
    EXPECT_EQ(jwks.find(m), std::string::npos) << jwks;
  }
  auto parsed = jose::parse_jwks(jwks);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->keys.size(), 1u);
  EXPECT_EQ(parsed->keys[0].kid, "gw-2026");
  EXPECT_EQ(parsed->keys[0].alg, jose::Alg::PS256);
  ASSERT_EQ(call(request("GET", "/accounts/1", good_token(), cert1_)).status, 201);
  EXPECT_EQ(core::get_string(verify_as_upstream(forwarded_bearer()), "aud").value_or(""),
            kAccountsAud);
}

TEST_F(UpstreamTokens, NoSigningConfiguredPublishesNothing) {
  start();
  EXPECT_TRUE(service_->upstream_jwks().empty());
}

TEST_F(UpstreamTokens, AKeyThatCannotSignRefusesToStart) {
  GatewayDeps deps;
  deps.issuer_client = [this](const config::Issuer&) -> Result<std::shared_ptr<http::Client>> {
    return std::shared_ptr<http::Client>(fake_);
  };
  deps.upstream_client = fake_;
  deps.clock = &clock_;
  auto key = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(key);
  for (const std::string& file :
       {temp_file("public.pem", key->public_pem()), temp_file("garbage.pem", "not a key"),
        temp_file("huge.pem", std::string(70 * 1024, 'A')),  // past the 64 KiB bound
        std::string("/nonexistent/upstream.pem")}) {
    EXPECT_FALSE(GatewayService::create(with_signing(file), deps)) << file;
  }
}

}  // namespace
}  // namespace fapigate::gw::test
