// The gateway end to end without sockets: forwarding, and every refusal with its exact status
// and WWW-Authenticate (RFC 6750 §3, RFC 8705 §3, RFC 9068 §4; fapi-requirements A.9, B.4).
#include "gateway/gateway_fixture.hpp"

#include <regex>

#include "core/strings.hpp"

namespace fapigate::gw::test {
namespace {

class Gateway : public GatewayTest {
protected:
  void SetUp() override {
    GatewayTest::SetUp();
    start();
  }
};

// ---- allowed ---------------------------------------------------------------------------------

TEST_F(Gateway, AllowedRequestIsForwardedWithGatewayAssertedHeaders) {
  const std::string tok = good_token();
  auto req = pay(tok);
  req.target = "/domestic-payments?dry_run=1";
  req.query = "dry_run=1";
  // Identity headers a client must not be able to assert.
  req.headers.add("Client-Cert", ":Zm9yZ2Vk:");
  req.headers.add("Client-Cert-Chain", ":Zm9yZ2Vk:");
  req.headers.add("X-Forwarded-For", "10.0.0.1");
  req.headers.add("X-Forwarded-Proto", "http");
  req.headers.add("Forwarded", "for=10.0.0.1");
  req.headers.add("x-fapi-interaction-id", "c0ffee-1234");
  req.headers.add("Connection", "keep-alive");
  req.headers.add("Keep-Alive", "timeout=5");
  req.headers.add("X-Custom", "kept");

  auto r = call(std::move(req));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body, R"({"paymentId":"p-1"})");
  EXPECT_EQ(r.headers.get("X-Upstream").value_or(""), "bank");
  EXPECT_EQ(r.headers.count("x-fapi-interaction-id"), 1u);
  EXPECT_EQ(r.headers.get("x-fapi-interaction-id").value_or(""), "c0ffee-1234");
  for (const char* hop : {"Connection", "Transfer-Encoding", "Keep-Alive", "Content-Length"}) {
    EXPECT_EQ(r.headers.count(hop), 0u) << hop;
  }

  auto sent = fake_->requests(kUpstream);
  ASSERT_EQ(sent.size(), 1u);
  const auto& u = sent[0];
  EXPECT_EQ(u.method, "POST");
  EXPECT_EQ(u.url, std::string(kUpstream) + "/domestic-payments?dry_run=1");
  EXPECT_EQ(u.body, R"({"amount":"10.00"})");
  EXPECT_EQ(u.timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(u.headers.get("Authorization").value_or(""), "Bearer " + tok);
  EXPECT_EQ(u.headers.get("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(u.headers.get("X-Custom").value_or(""), "kept");
  ASSERT_EQ(u.headers.count("Client-Cert"), 1u);
  EXPECT_EQ(u.headers.get("Client-Cert").value_or(""),
            ":" + core::base64_encode(data_->cert1.der) + ":");
  EXPECT_EQ(u.headers.count("Client-Cert-Chain"), 0u);
  EXPECT_EQ(u.headers.count("Forwarded"), 0u);
  ASSERT_EQ(u.headers.count("x-fapi-interaction-id"), 1u);
  EXPECT_EQ(u.headers.get("x-fapi-interaction-id").value_or(""), "c0ffee-1234");
  ASSERT_EQ(u.headers.count("X-Forwarded-For"), 1u);
  EXPECT_EQ(u.headers.get("X-Forwarded-For").value_or(""), "203.0.113.7");
  ASSERT_EQ(u.headers.count("X-Forwarded-Proto"), 1u);
  EXPECT_EQ(u.headers.get("X-Forwarded-Proto").value_or(""), "https");
  EXPECT_EQ(u.headers.count("Host"), 0u);
  EXPECT_EQ(u.headers.count("Connection"), 0u);
  EXPECT_EQ(u.headers.count("Keep-Alive"), 0u);
}

TEST_F(Gateway, TheChainTheConnectionVerifiedThroughIsForwardedAsClientCertChain) {  // CC-02
  // The TLS layer filled chain_field from the verified chain (tests/tls: the issuing CA the
  // client sent); the gateway forwards it beside Client-Cert and drops the client's own.
  const std::string tok = good_token();
  auto req = pay(tok);
  auto cert = std::make_shared<http::PeerCertificate>(*req.peer_certificate);
  cert->chain_field = ":aXNzdWluZy1jYQ==:";
  req.peer_certificate = cert;
  req.headers.add("Client-Cert-Chain", ":Zm9yZ2Vk:");
  auto r = call(std::move(req));
  ASSERT_EQ(r.status, 201) << r.body;
  auto sent = fake_->requests(kUpstream);
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(sent[0].headers.count("Client-Cert-Chain"), 1u);
  EXPECT_EQ(sent[0].headers.get("Client-Cert-Chain").value_or(""), ":aXNzdWluZy1jYQ==:");
  EXPECT_EQ(sent[0].headers.get("Client-Cert").value_or(""),
            ":" + core::base64_encode(data_->cert1.der) + ":");
}

TEST_F(Gateway, UpstreamBaseWithTrailingSlashIsNotDoubled) {
  auto r = call(request("GET", "/accounts/123", good_token(), cert1_));
  ASSERT_EQ(r.status, 201) << r.body;
  auto sent = fake_->requests(kUpstream);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].url, std::string(kUpstream) + "/accounts/123");
  EXPECT_EQ(sent[0].method, "GET");
}

class GatewayAlg : public Gateway, public ::testing::WithParamInterface<int> {};

TEST_P(GatewayAlg, AcceptsEachAllowedAlgorithm) {
  const SigningKey* keys[] = {&data_->a_rsa, &data_->a_ec, &data_->a_ed};
  auto r = call(pay(sign(claims(), *keys[GetParam()])));
  EXPECT_EQ(r.status, 201) << r.body;
}

INSTANTIATE_TEST_SUITE_P(Algs, GatewayAlg, ::testing::Values(0, 1, 2));

TEST_F(Gateway, BearerSchemeIsCaseInsensitive) {
  const std::string tok = good_token();
  for (const char* scheme : {"bearer", "BEARER", "BeArEr"}) {
    auto req = pay("");
    req.headers.add("Authorization", std::string(scheme) + " " + tok);
    EXPECT_EQ(call(std::move(req)).status, 201) << scheme;
  }
}

TEST_F(Gateway, TypWithMediaTypePrefixIsAccepted) {
  EXPECT_EQ(call(pay(sign(claims(), data_->a_ec, "application/at+jwt"))).status, 201);
}

TEST_F(Gateway, AudienceArrayContainingThisApiIsAccepted) {
  auto c = claims();
  c["aud"] = boost::json::array{"https://other.example", kAud};
  EXPECT_EQ(call(pay(sign(c, data_->a_ec))).status, 201);
}

TEST_F(Gateway, SecondIssuerTokensAreAccepted) {
  EXPECT_EQ(call(pay(sign(claims(kIssB), data_->b_ec))).status, 201);
}

TEST_F(Gateway, RouteWithoutSenderConstraintAcceptsAnUnboundToken) {
  auto c = claims();
  c.erase("cnf");
  auto r = call(request("GET", "/open/status", sign(c, data_->a_ec), nullptr));
  EXPECT_EQ(r.status, 201) << r.body;
  // No certificate on the connection: no Client-Cert upstream either.
  auto sent = fake_->requests(kUpstream);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].headers.count("Client-Cert"), 0u);
}

TEST_F(Gateway, RouteWithoutSenderConstraintStillChecksABoundToken) {
  // Binding is a property of the token: a stolen bound token fails on every route.
  auto r = call(request("GET", "/open/status", good_token(), cert2_));
  expect_refused(r, 401, invalid_token("the access token is bound to another certificate"));
  auto r2 = call(request("GET", "/open/status", good_token(), nullptr));
  expect_refused(r2, 401,
                 invalid_token("the access token is bound to a certificate; present it"));
  EXPECT_EQ(call(request("GET", "/open/status", good_token(), cert1_)).status, 201);
}

TEST_F(GatewayTest, CreateDoesNoNetworkIoAndWarmUpFetchesEveryIssuer) {
  start(default_settings(), Warm::None);
  EXPECT_EQ(fake_->count(), 0u);
  service_->warm_up();
  EXPECT_EQ(fake_->count(kJwksA), 1u);
  EXPECT_EQ(fake_->count(kJwksB), 1u);
  EXPECT_EQ(fake_->count(), 2u);
  fake_->run_all();
  // Keys are in place: a request is answered without another fetch.
  EXPECT_EQ(call(pay(good_token())).status, 201);
  EXPECT_EQ(fake_->count(kJwksA), 1u);
}

TEST_F(GatewayTest, WithoutWarmUpTheFirstRequestFetchesTheKeys) {
  start(default_settings(), Warm::None);
  auto slot = begin(pay(good_token()));
  EXPECT_EQ(slot->calls, 0);
  EXPECT_EQ(fake_->count(kJwksA), 1u);
  EXPECT_EQ(fake_->count(kJwksB), 0u);
  fake_->run_all();
  EXPECT_EQ(slot->calls, 1);
  EXPECT_EQ(slot->response.status, 201) << slot->response.body;
}

TEST_F(Gateway, ConcurrentRequestsWaitForOneJwksFetch) {
  // A fresh gateway whose warm-up fetch is still in flight.
  start(default_settings(), Warm::InFlight);
  const std::size_t fetches = fake_->count(kJwksA);
  std::vector<std::shared_ptr<Slot>> slots;
  for (int i = 0; i < 3; ++i) {
    slots.push_back(begin(pay(good_token())));
  }
  for (auto& s : slots) {
    EXPECT_EQ(s->calls, 0);  // waiting for the keys
  }
  EXPECT_EQ(fake_->count(kJwksA), fetches);  // no fetch per waiter
  fake_->run_all();
  for (auto& s : slots) {
    EXPECT_EQ(s->calls, 1);
    EXPECT_EQ(s->response.status, 201) << s->response.body;
  }
  EXPECT_EQ(fake_->count(kJwksA), fetches);
}

TEST_F(Gateway, ManyThreadsShareTheVerifiedTokenCache) {
  const std::string tok = good_token();
  ASSERT_EQ(call(pay(tok)).status, 201);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::shared_ptr<Slot>> slots;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto s = begin(pay(tok));
        std::lock_guard lock(mu);
        slots.push_back(std::move(s));
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  fake_->run_all();
  for (auto& s : slots) {
    ok += s->calls == 1 && s->response.status == 201;
  }
  EXPECT_EQ(ok.load(), 40);
}

// ---- interaction id (FAPI 1.0 Part 1 §6.2.1-11) -----------------------------------------------

TEST_F(Gateway, InteractionIdIsGeneratedWhenAbsent) {
  const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  auto ok = call(pay(good_token()));
  const std::string id(ok.headers.get("x-fapi-interaction-id").value_or(""));
  EXPECT_TRUE(std::regex_match(id, uuid)) << id;
  // The upstream got the same id the client got.
  EXPECT_EQ(fake_->requests(kUpstream).at(0).headers.get("x-fapi-interaction-id").value_or(""),
            id);
  auto refused = call(request("GET", "/accounts", "", cert1_));
  const std::string id2(refused.headers.get("x-fapi-interaction-id").value_or(""));
  EXPECT_TRUE(std::regex_match(id2, uuid)) << id2;
  EXPECT_NE(id, id2);
}

TEST_F(Gateway, WellFormedInteractionIdIsEchoedOnRefusalsToo) {
  auto req = request("GET", "/nowhere", "", cert1_);
  req.headers.add("x-fapi-interaction-id", "93bac548-d2de-4546-b106-880a5018460d");
  auto r = call(std::move(req));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.get("x-fapi-interaction-id").value_or(""),
            "93bac548-d2de-4546-b106-880a5018460d");
}

TEST_F(Gateway, UnsafeInteractionIdIsReplaced) {
  for (std::string bad : {std::string("abc\r\nSet-Cookie: x=1"), std::string("a b"),
                          std::string(129, 'a'), std::string(""), std::string("id\"quote"),
                          std::string("id;param")}) {
    auto req = pay(good_token());
    req.headers.add("x-fapi-interaction-id", bad);
    auto r = call(std::move(req));
    const std::string id(r.headers.get("x-fapi-interaction-id").value_or(""));
    EXPECT_NE(id, bad);
    EXPECT_EQ(id.size(), 36u) << id;
  }
  EXPECT_EQ(interaction_id_for(request("GET", "/", "", nullptr)).size(), 36u);
}

TEST_F(Gateway, MaximalSafeInteractionIdIsEchoed) {
  http::Request req = request("GET", "/", "", nullptr);
  const std::string id = std::string(64, 'a') + "-_." + std::string(61, 'Z');
  ASSERT_EQ(id.size(), 128u);
  req.headers.add("x-fapi-interaction-id", id);
  EXPECT_EQ(interaction_id_for(req), id);
}

// ---- resource response headers (FAPI 1.0 Part 1 §6.2.1-8..-13) -------------------------------

TEST_F(Gateway, UpstreamDateIsKeptNotDoubled) {  // F1-28
  http::Response up = http::Response::json(200, R"({"accounts":[]})");
  up.headers.add("Date", "Mon, 13 Nov 2023 10:00:00 GMT");
  fake_->respond(kUpstream, up);
  auto r = call(request("GET", "/accounts", good_token(), cert1_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.count("Date"), 1u);
  EXPECT_EQ(r.headers.get("Date").value_or(""), "Mon, 13 Nov 2023 10:00:00 GMT");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json");
}

TEST_F(Gateway, OddAcceptValuesAreServed) {  // F1-28: the suite sends these
  for (const char* accept : {"*/*", "application/json", "application/json; charset=utf-8",
                             "application/json;charset=UTF-8", "text/html"}) {
    auto req = request("GET", "/accounts", good_token(), cert1_);
    req.headers.add("Accept", accept);
    auto r = call(std::move(req));
    EXPECT_EQ(r.status, 201) << accept << ": " << r.body;
  }
}

TEST_F(Gateway, InteractionIdUuidIsEchoedExactly) {  // F1-29
  const std::string id = "6b3b6e4f-1c6e-4e3f-9a3e-0d1c2b3a4f5e";
  auto req = pay(good_token());
  req.headers.add("x-fapi-interaction-id", id);
  auto r = call(std::move(req));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.headers.count("x-fapi-interaction-id"), 1u);
  EXPECT_EQ(r.headers.get("x-fapi-interaction-id").value_or(""), id);
  EXPECT_EQ(fake_->requests(kUpstream).at(0).headers.get("x-fapi-interaction-id").value_or(""),
            id);
}

TEST_F(Gateway, CustomerIpAddressV4AndV6AndAuthDateAreAccepted) {  // F1-30
  int n = 0;
  for (const char* ip : {"198.51.100.23", "2001:db8::1", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                         "::ffff:192.0.2.128", "fe80::1"}) {
    auto req = pay(good_token());
    req.headers.add("x-fapi-customer-ip-address", ip);
    req.headers.add("x-fapi-auth-date", "Tue, 11 Sep 2012 19:43:31 GMT");
    auto r = call(std::move(req));
    EXPECT_EQ(r.status, 201) << ip << ": " << r.body;
    // Passed on to the API, which is the party that uses them (FAPI 1.0 Part 1 §6.2.2).
    auto sent = fake_->requests(kUpstream);
    ASSERT_EQ(sent.size(), static_cast<std::size_t>(++n));
    EXPECT_EQ(sent.back().headers.get("x-fapi-customer-ip-address").value_or(""), ip);
    EXPECT_EQ(sent.back().headers.get("x-fapi-auth-date").value_or(""),
              "Tue, 11 Sep 2012 19:43:31 GMT");
  }
}

// ---- credentials in the request (RFC 6750 §2, §3) ----------------------------------------------

TEST_F(Gateway, MissingTokenGetsABareChallenge) {
  auto r = call(request("POST", "/domestic-payments", "", cert1_));
  expect_refused(r, 401, challenge());
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

TEST_F(Gateway, OtherSchemeGetsABareChallenge) {
  auto req = pay("");
  req.headers.add("Authorization", "Basic cGFydG5lcjpzZWNyZXQ=");
  expect_refused(call(std::move(req)), 401, challenge());
}

TEST_F(Gateway, TokenInTheQueryIsInvalidRequest) {
  const std::string www = challenge(
      "invalid_request", "access tokens are accepted only in the Authorization header");
  auto r = call(request("GET", "/accounts?access_token=" + good_token(), "", cert1_));
  expect_refused(r, 400, www);
  EXPECT_EQ(error_of(r), "invalid_request");
  // Even together with a valid header.
  auto r2 = call(request("GET", "/accounts?x=1&access_token=abc", good_token(), cert1_));
  expect_refused(r2, 400, www);
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

TEST_F(Gateway, TokenInTheFormBodyIsNotAccepted) {  // B-02 (RFC 6750 §2.2 is not offered)
  auto req = request("POST", "/domestic-payments", "", cert1_);
  req.headers.add("Content-Type", "application/x-www-form-urlencoded");
  req.body = "access_token=" + good_token();
  expect_refused(call(std::move(req)), 401, challenge());
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

TEST_F(Gateway, TwoAuthorizationHeadersAreInvalidRequest) {
  const std::string tok = good_token();
  auto req = pay(tok);
  req.headers.add("Authorization", "Bearer " + tok);
  expect_refused(call(std::move(req)), 400,
                 challenge("invalid_request", "malformed Authorization header"));
}

TEST_F(Gateway, MalformedBearerCredentialIsInvalidRequest) {
  const std::string www = challenge("invalid_request", "malformed Authorization header");
  for (std::string value : {std::string("Bearer"), std::string("Bearer "),
                            std::string("Bearer a b"), std::string("Bearer abc$def"),
                            std::string("Bearer =abc"), std::string("Bearer ab=c"),
                            std::string("Bearer \"abc\"")}) {
    auto req = pay("");
    req.headers.add("Authorization", value);
    expect_refused(call(std::move(req)), 400, www);
  }
}

// ---- token verification (RFC 9068 §4, RFC 8725) ----------------------------------------------

TEST_F(Gateway, GarbageTokenIsInvalidToken) {
  const std::string www = invalid_token("the access token is malformed");
  for (const char* garbage : {"garbage", "a.b.c", "a.b", "a..b.c", "....", "eyJhbGci.e30.e30"}) {
    expect_refused(call(pay(garbage)), 401, www);
  }
  // Oversized: refused by the JWS size limit before any decoding.
  expect_refused(call(pay(std::string(40000, 'a') + ".e30.e30")), 401, www);
}

TEST_F(Gateway, PayloadThatIsNotJsonIsMalformed) {
  // Correctly shaped JWS whose payload is not a JSON object.
  auto t = jose::sign_compact("[1,2,3]", jose::Alg::ES256, data_->a_ec.key, "a-ec", "at+jwt");
  ASSERT_TRUE(t);
  expect_refused(call(pay(*t)), 401, invalid_token("the access token is malformed"));
}

TEST_F(Gateway, AlgNoneIsRefused) {
  auto c = boost::json::serialize(claims());
  const std::string t =
      raw_jws(R"({"alg":"none","typ":"at+jwt","kid":"a-ec"})", c, "");
  expect_refused(call(pay(t)), 401, invalid_token("the access token algorithm is not allowed"));
  const std::string t2 = raw_jws(R"({"alg":"None","typ":"at+jwt"})", c, "");
  expect_refused(call(pay(t2)), 401, invalid_token("the access token algorithm is not allowed"));
}

TEST_F(Gateway, MissingAlgIsRefused) {
  const std::string t = raw_jws(R"({"typ":"at+jwt","kid":"a-ec"})",
                                boost::json::serialize(claims()), "sig");
  expect_refused(call(pay(t)), 401, invalid_token("the access token algorithm is not allowed"));
}

TEST_F(Gateway, Hs256SignedWithThePublicKeyIsRefused) {
  // The classic key-confusion forgery: HMAC keyed with the issuer's public key.
  for (const SigningKey* k : {&data_->a_rsa, &data_->a_ec}) {
    const std::string header =
        R"({"alg":"HS256","typ":"at+jwt","kid":")" + k->kid + R"("})";
    const std::string payload = boost::json::serialize(claims());
    const std::string input = b64(header) + "." + b64(payload);
    for (const std::string& secret : {k->key.public_pem(), k->key.public_der()}) {
      const std::string t = input + "." + b64(hmac_sha256(secret, input));
      expect_refused(call(pay(t)), 401,
                     invalid_token("the access token algorithm is not allowed"));
    }
  }
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

TEST_F(Gateway, Es256HeaderOverAnRsaKeyIsRefused) {
  const std::string header = R"({"alg":"ES256","typ":"at+jwt","kid":"a-rsa"})";
  const std::string payload = boost::json::serialize(claims());
  const std::string input = b64(header) + "." + b64(payload);
  auto sig = crypto::sign(jose::Alg::PS256, data_->a_rsa.key, input);
  ASSERT_TRUE(sig);
  auto r = call(pay(input + "." + b64(*sig)));
  EXPECT_EQ(r.status, 401);
  // The key exists but does not fit the alg; the gateway reports it as an unknown key.
  EXPECT_EQ(r.headers.get("WWW-Authenticate").value_or("").rfind(
                std::string("Bearer realm=\"fapigate\", error=\"invalid_token\""), 0),
            0u)
      << r.headers.get("WWW-Authenticate").value_or("");
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

TEST_F(Gateway, TypOtherThanAtJwtIsRefused) {
  const std::string www = invalid_token("the token is not an access token (typ must be at+jwt)");
  expect_refused(call(pay(sign(claims(), data_->a_ec, "JWT"))), 401, www);
  expect_refused(call(pay(sign(claims(), data_->a_ec, "id_token+jwt"))), 401, www);
  // No typ at all (an ID token usually has none).
  expect_refused(call(pay(sign(claims(), data_->a_ec, ""))), 401, www);
}

TEST_F(Gateway, UnknownIssuerIsRefused) {
  const std::string www = invalid_token("the token issuer is not trusted here");
  expect_refused(call(pay(sign(claims("https://evil.example"), data_->a_ec))), 401, www);
  // Issuer URLs compare exactly: no trailing-slash or case folding.
  expect_refused(call(pay(sign(claims(std::string(kIssA) + "/"), data_->a_ec))), 401, www);
  expect_refused(call(pay(sign(claims("HTTPS://AS-A.EXAMPLE"), data_->a_ec))), 401, www);
  auto c = claims();
  c.erase("iss");
  expect_refused(call(pay(sign(c, data_->a_ec))), 401, www);
  c["iss"] = 42;
  expect_refused(call(pay(sign(c, data_->a_ec))), 401, www);
  EXPECT_EQ(fake_->count("https://evil.example"), 0u);
}

TEST_F(Gateway, RouteIssuerAllowListIsEnforced) {
  const std::string www = invalid_token("the token issuer is not trusted here");
  expect_refused(call(request("GET", "/b-only", good_token(), cert1_)), 401, www);
  EXPECT_EQ(call(request("GET", "/b-only", sign(claims(kIssB), data_->b_ec), cert1_)).status,
            201);
}

TEST_F(Gateway, UnknownKidIsRefusedAndRefetchIsRateLimited) {
  const std::string www = invalid_token("the token signing key is unknown");
  auto unknown = [&](const char* kid) {
    SigningKey k = data_->a_ec_rotated;
    k.kid = kid;
    return sign(claims(), k);
  };
  const std::size_t warm = fake_->count(kJwksA);
  ASSERT_EQ(warm, 1u);
  // Within the refetch interval of the warm-up fetch: no new fetch at all.
  expect_refused(call(pay(unknown("made-up-1"))), 401, www);
  EXPECT_EQ(fake_->count(kJwksA), warm);
  // After the interval one refetch is allowed...
  clock_.advance(31);
  expect_refused(call(pay(unknown("made-up-2"))), 401, www);
  EXPECT_EQ(fake_->count(kJwksA), warm + 1);
  // ...and a second unknown kid right after does not trigger another.
  expect_refused(call(pay(unknown("made-up-3"))), 401, www);
  clock_.advance(10);
  expect_refused(call(pay(unknown("made-up-4"))), 401, www);
  EXPECT_EQ(fake_->count(kJwksA), warm + 1);
  // Known keys are unaffected.
  EXPECT_EQ(call(pay(good_token())).status, 201);
}

TEST_F(Gateway, MissingKidWithSeveralKeysIsRefused) {
  auto t = jose::sign_compact(boost::json::serialize(claims()), jose::Alg::ES256,
                              data_->a_ec.key, "", "at+jwt");
  ASSERT_TRUE(t);
  // Issuer A publishes exactly one EC key, so an absent kid picks it (RFC 7515 §4.1.4 allows).
  EXPECT_EQ(call(pay(*t)).status, 201);
  // Issuer B publishes two EC keys: no kid is ambiguous and must be refused.
  auto tb = jose::sign_compact(boost::json::serialize(claims(kIssB)), jose::Alg::ES256,
                               data_->b_ec.key, "", "at+jwt");
  ASSERT_TRUE(tb);
  expect_refused(call(pay(*tb)), 401, invalid_token("the token signing key is unknown"));
}

TEST_F(Gateway, JwksUnavailableOnFirstUseIsKeysUnavailable) {
  fake_->fail(kJwksA, make_error_code(boost::system::errc::connection_refused));
  start(default_settings());  // warm-up fetch fails
  const std::string www = invalid_token("the issuer's keys are unavailable");
  expect_refused(call(pay(good_token())), 401, www);
  // A JWKS endpoint answering 500, or with a body that is not a JWKS, is no better.
  fake_->respond_json(kJwksA, 500, "{}");
  expect_refused(call(pay(good_token())), 401, www);
  fake_->respond_json(kJwksA, 200, R"({"keys":"nope"})");
  expect_refused(call(pay(good_token())), 401, www);
  // Once the issuer is back, the same token is accepted.
  fake_->respond_json(kJwksA, 200, jwks_a());
  clock_.advance(31);
  EXPECT_EQ(call(pay(good_token())).status, 201);
}

TEST_F(Gateway, ExpiredTokenIsRefused) {
  const std::string www = invalid_token("the access token expired");
  auto c = claims();
  c["iat"] = kNow - 400;
  c["exp"] = kNow - 11;  // beyond the 10 s skew
  expect_refused(call(pay(sign(c, data_->a_ec))), 401, www);
  c["exp"] = kNow - 5;  // within the skew: still accepted
  EXPECT_EQ(call(pay(sign(c, data_->a_ec))).status, 201);
}

TEST_F(Gateway, MissingOrNonNumericExpIsRefused) {
  const std::string www = invalid_token("the access token has an invalid claim");
  auto c = claims();
  c.erase("exp");
  expect_refused(call(pay(sign(c, data_->a_ec))), 401, www);
  c["exp"] = "tomorrow";
  expect_refused(call(pay(sign(c, data_->a_ec))), 401, www);
  auto c2 = claims();
  c2["aud"] = 7;
  auto r = call(pay(sign(c2, data_->a_ec)));
  EXPECT_EQ(r.status, 401);
}

TEST_F(Gateway, NotYetValidTokenIsRefused) {
  const std::string www = invalid_token("the access token is not yet valid");
  auto c = claims();
  c["nbf"] = kNow + 60;
  expect_refused(call(pay(sign(c, data_->a_ec))), 401, www);
  auto c2 = claims();
  c2["iat"] = kNow + 60;
  expect_refused(call(pay(sign(c2, data_->a_ec))), 401, www);
  auto c3 = claims();
  c3["nbf"] = kNow + 5;  // within the skew
  EXPECT_EQ(call(pay(sign(c3, data_->a_ec))).status, 201);
}

TEST_F(Gateway, WrongAudienceIsRefused) {
  const std::string www = invalid_token("the token audience does not include this API");
  auto c = claims();
  c["aud"] = "https://other-api.example";
  expect_refused(call(pay(sign(c, data_->a_ec))), 401, www);
  c["aud"] = boost::json::array{"https://a.example", "https://b.example"};
  expect_refused(call(pay(sign(c, data_->a_ec))), 401, www);
  c.erase("aud");
  expect_refused(call(pay(sign(c, data_->a_ec))), 401, www);
}

TEST_F(Gateway, BadSignatureIsRefused) {
  const std::string www = invalid_token("the token signature is invalid");
  // Signed with a key that is not the kid's.
  SigningKey impostor = data_->a_ec_rotated;
  impostor.kid = "a-ec";
  expect_refused(call(pay(sign(claims(), impostor))), 401, www);
  // A real token with its payload swapped.
  const std::string good = good_token();
  auto c = claims();
  c["scope"] = "accounts payments admin";
  const auto d1 = good.find('.');
  const auto d2 = good.find('.', d1 + 1);
  const std::string swapped =
      good.substr(0, d1 + 1) + b64(boost::json::serialize(c)) + good.substr(d2);
  expect_refused(call(pay(swapped)), 401, www);
  // Truncated signature (re-encoded, so only the signature bytes are wrong).
  auto sig = core::base64url_decode(good.substr(d2 + 1));
  ASSERT_TRUE(sig);
  const std::string truncated = good.substr(0, d2 + 1) + b64(sig->substr(0, sig->size() - 4));
  expect_refused(call(pay(truncated)), 401, www);
}

// ---- sender constraint (RFC 8705 §3; N-70, N-71) ----------------------------------------------

TEST_F(Gateway, MtlsRouteRefusesATokenWithoutCnf) {
  auto c = claims();
  c.erase("cnf");
  expect_refused(call(pay(sign(c, data_->a_ec))), 401,
                 invalid_token("the access token is not bound to a certificate"));
}

TEST_F(Gateway, BoundTokenWithoutACertificateIsRefused) {
  auto req = pay(good_token());
  req.peer_certificate = nullptr;
  expect_refused(call(std::move(req)), 401,
                 invalid_token("the access token is bound to a certificate; present it"));
}

TEST_F(Gateway, BoundTokenWithAnotherCertificateIsRefused) {
  auto req = pay(good_token());
  req.peer_certificate = cert2_;
  expect_refused(call(std::move(req)), 401,
                 invalid_token("the access token is bound to another certificate"));
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

TEST_F(Gateway, ForgedClientCertHeaderDoesNotSatisfyTheBinding) {
  // N-91: the binding is checked against the TLS peer certificate only.
  auto req = pay(good_token());
  req.peer_certificate = nullptr;
  req.headers.add("Client-Cert", ":" + core::base64_encode(data_->cert1.der) + ":");
  expect_refused(call(std::move(req)), 401,
                 invalid_token("the access token is bound to a certificate; present it"));
}

TEST_F(Gateway, CnfWithAnUnsupportedMethodIsNeverIgnored) {
  const std::string www = invalid_token("the access token is bound to another certificate");
  auto c = claims();
  c["cnf"] = boost::json::object{{"jkt", "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}};
  expect_refused(call(request("GET", "/open/x", sign(c, data_->a_ec), cert1_)), 401, www);
  c["cnf"] = "x5t";
  expect_refused(call(request("GET", "/open/x", sign(c, data_->a_ec), cert1_)), 401, www);
  c["cnf"] = boost::json::object{{"x5t#S256", 12}};
  expect_refused(call(request("GET", "/open/x", sign(c, data_->a_ec), cert1_)), 401, www);
}

TEST_F(Gateway, CnfComparisonIsExact) {
  auto c = claims();
  std::string tp = cert1_->x5t_s256;
  tp.back() = tp.back() == 'A' ? 'B' : 'A';
  c["cnf"] = boost::json::object{{"x5t#S256", tp}};
  expect_refused(call(pay(sign(c, data_->a_ec))), 401,
                 invalid_token("the access token is bound to another certificate"));
  c["cnf"] = boost::json::object{{"x5t#S256", cert1_->x5t_s256 + "="}};
  expect_refused(call(pay(sign(c, data_->a_ec))), 401,
                 invalid_token("the access token is bound to another certificate"));
}

// ---- route policy (RFC 6750 §3.1) -------------------------------------------------------------

TEST_F(Gateway, InsufficientScopeIs403WithTheScope) {
  auto c = claims();
  c["scope"] = "accounts";
  auto r = call(pay(sign(c, data_->a_ec)));
  expect_refused(r, 403,
                 challenge("insufficient_scope", "the access token lacks a required scope") +
                     ", scope=\"payments\"");
  EXPECT_EQ(error_of(r), "insufficient_scope");
  // All scopes of a route are required; the challenge names all of them.
  auto r2 = call(request("GET", "/both", sign(c, data_->a_ec), cert1_));
  expect_refused(r2, 403,
                 challenge("insufficient_scope", "the access token lacks a required scope") +
                     ", scope=\"accounts payments\"");
  // Scope matching is by whole token, not substring.
  c["scope"] = "paymentsX xpayments";
  expect_refused(call(pay(sign(c, data_->a_ec))), 403,
                 challenge("insufficient_scope", "the access token lacks a required scope") +
                     ", scope=\"payments\"");
  c.erase("scope");
  EXPECT_EQ(call(pay(sign(c, data_->a_ec))).status, 403);
}

TEST_F(Gateway, NoRouteIs404) {
  auto r = call(request("GET", "/admin", good_token(), cert1_));
  expect_refused(r, 404, "");
  EXPECT_EQ(error_of(r), "no_route");
  // Exact routes do not match longer paths.
  expect_refused(call(request("POST", "/domestic-payments/1", good_token(), cert1_)), 404, "");
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

TEST_F(Gateway, WrongMethodIs405) {
  auto r = call(request("GET", "/domestic-payments", good_token(), cert1_));
  expect_refused(r, 405, "");
  EXPECT_EQ(error_of(r), "method_not_allowed");
  // Method names are case-sensitive (RFC 9110 §9.1).
  expect_refused(call(request("post", "/domestic-payments", good_token(), cert1_)), 405, "");
}

TEST_F(Gateway, DotSegmentsAndEncodedSeparatorsAre400) {
  for (const char* path : {"/accounts/../domestic-payments", "/accounts/./x", "/accounts/..",
                           "/accounts%2F..%2Fadmin", "/accounts%2f1", "/accounts/%2e%2e/admin",
                           "/accounts/%2E", "/accounts%5cadmin", "/accounts\\admin",
                           "/accounts%00", "accounts", ""}) {
    auto r = call(request("GET", path, good_token(), cert1_));
    expect_refused(r, 400, "");
    EXPECT_EQ(error_of(r), "invalid_request") << path;
  }
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

// ---- upstream failures -------------------------------------------------------------------------

TEST_F(Gateway, UpstreamErrorIs502Json) {
  fake_->fail(kUpstream, make_error_code(boost::system::errc::connection_refused));
  auto r = call(pay(good_token()));
  expect_refused(r, 502, "");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(error_of(r), "upstream_unavailable");
  EXPECT_EQ(r.body.find("refused"), std::string::npos) << r.body;  // no internal detail
}

TEST_F(Gateway, UpstreamTimeoutIs504) {
  fake_->fail(kUpstream, make_error_code(boost::system::errc::timed_out));
  auto r = call(pay(good_token()));
  expect_refused(r, 504, "");
  EXPECT_EQ(error_of(r), "upstream_timeout");
}

TEST_F(Gateway, UpstreamErrorStatusIsPassedThrough) {
  http::Response err = http::Response::json(503, R"({"error":"maintenance"})");
  fake_->respond(kUpstream, err);
  auto r = call(pay(good_token()));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"error":"maintenance"})");
}

// ---- keys: rotation, outage, isolation ----------------------------------------------------------

TEST_F(Gateway, KeyRotationIsPickedUpByRefetch) {
  // The issuer rotates: its JWKS now has the new key.
  fake_->respond_json(kJwksA, 200,
                      jwks_json({&data_->a_rsa, &data_->a_ec, &data_->a_ed,
                                 &data_->a_ec_rotated}));
  clock_.advance(31);
  const std::size_t before = fake_->count(kJwksA);
  auto r = call(pay(sign(claims(), data_->a_ec_rotated)));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(fake_->count(kJwksA), before + 1);
  // Old key still published, still good; no further fetch.
  EXPECT_EQ(call(pay(good_token())).status, 201);
  EXPECT_EQ(fake_->count(kJwksA), before + 1);
}

TEST_F(Gateway, RotatedKeyIsNotFoundUntilTheIssuerPublishesIt) {
  clock_.advance(31);
  expect_refused(call(pay(sign(claims(), data_->a_ec_rotated))), 401,
                 invalid_token("the token signing key is unknown"));
  fake_->respond_json(kJwksA, 200, jwks_json({&data_->a_ec, &data_->a_ec_rotated}));
  clock_.advance(31);
  EXPECT_EQ(call(pay(sign(claims(), data_->a_ec_rotated))).status, 201);
}

TEST_F(Gateway, IssuerDownAfterKeysWereCachedKeepsServing) {
  ASSERT_EQ(call(pay(good_token())).status, 201);
  fake_->fail(kJwksA, make_error_code(boost::system::errc::timed_out));
  // Past jwks_max_age: a background refresh is attempted and fails.
  clock_.advance(301);
  const std::size_t before = fake_->count(kJwksA);
  EXPECT_EQ(call(pay(good_token())).status, 201);
  EXPECT_EQ(fake_->count(kJwksA), before + 1);
  EXPECT_EQ(call(pay(sign(claims(), data_->a_rsa))).status, 201);
  // A JWKS that stops parsing does not wipe the cached keys either.
  fake_->respond_json(kJwksA, 200, "not json");
  clock_.advance(301);
  EXPECT_EQ(call(pay(good_token())).status, 201);
  EXPECT_EQ(call(pay(sign(claims(), data_->a_ed))).status, 201);
}

TEST_F(Gateway, KeysNeverMixBetweenIssuers) {
  clock_.advance(31);  // let any refetch happen, so the refusal is not a rate-limit artefact
  // Issuer A's token signed with issuer B's key, under B's kid: A has no such key.
  expect_refused(call(pay(sign(claims(kIssA), data_->b_ec))), 401,
                 invalid_token("the token signing key is unknown"));
  // Under a kid both issuers publish ("a-ec"): A's key is used, and B's signature fails.
  expect_refused(call(pay(sign(claims(kIssA), data_->b_same_kid))), 401,
                 invalid_token("the token signature is invalid"));
  // And the reverse: B's token signed with A's key.
  expect_refused(call(pay(sign(claims(kIssB), data_->a_ec))), 401,
                 invalid_token("the token signature is invalid"));
  expect_refused(call(pay(sign(claims(kIssB), data_->a_rsa))), 401,
                 invalid_token("the token signing key is unknown"));
  // Fetches for A never went to B's JWKS and vice versa.
  for (const auto& r : fake_->requests(kJwksA)) {
    EXPECT_EQ(r.url, kJwksA);
  }
}

// ---- verified-token cache through the service ----------------------------------------------------

TEST_F(Gateway, CachedTokenIsStillRefusedOnceExpired) {
  const std::string tok = good_token();  // exp = now + 300
  ASSERT_EQ(call(pay(tok)).status, 201);
  clock_.advance(305);  // past exp, within skew: re-verified, still accepted
  EXPECT_EQ(call(pay(tok)).status, 201);
  clock_.advance(6);  // now = exp + 11
  expect_refused(call(pay(tok)), 401, invalid_token("the access token expired"));
}

TEST_F(Gateway, CachedTokenStillChecksBindingAndScopePerRequest) {
  const std::string tok = good_token();
  ASSERT_EQ(call(pay(tok)).status, 201);
  auto stolen = pay(tok);
  stolen.peer_certificate = cert2_;
  expect_refused(call(std::move(stolen)), 401,
                 invalid_token("the access token is bound to another certificate"));
  EXPECT_EQ(call(request("GET", "/b-only", tok, cert1_)).status, 401);
}

}  // namespace
}  // namespace fapigate::gw::test
