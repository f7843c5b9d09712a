// The gateway as a policy enforcement point behind (or without) a TLS-terminating proxy:
// RFC 9440 Client-Cert only from trusted proxies, the trusted scope header, host/SNI agreement,
// per-method scopes, claim headers, upstream pools with retries for idempotent methods only.
#include "gateway_fixture.hpp"

#include "gateway/client_cert_header.hpp"
#include "gateway/upstream_proxy.hpp"

namespace fapigate::gw::test {
namespace {

constexpr const char* kProxy = "10.0.0.5";
constexpr const char* kUp1 = "http://pool-1.internal:9000";
constexpr const char* kUp2 = "http://pool-2.internal:9000";

class GatewayPolicy : public GatewayTest {
protected:
  static config::Gateway settings() {
    auto g = default_settings();
    g.trusted_proxies = {"10.0.0.0/24"};
    auto crud = route("crud", "/accounts/{id}", {"GET", "POST", "DELETE"}, {});
    crud.method_scopes = {{"GET", {"accounts"}}, {"POST", {"payments"}}, {"DELETE", {"admin"}}};
    crud.claim_headers = {{"X-User", "sub"}, {"X-Client", "client_id"}, {"X-Scope", "scope"}};
    crud.scope_header = "x-my-scope";
    g.routes.insert(g.routes.begin(), crud);
    auto hosted = route("hosted", "/hosted", {"GET"}, {}, config::SenderConstraint::Mtls);
    hosted.host = "api.example";
    g.routes.insert(g.routes.begin(), hosted);
    auto pool = route("pool", "/pool/*", {}, {});
    pool.upstream.clear();
    pool.upstreams = {kUp1, kUp2};
    g.routes.insert(g.routes.begin(), pool);
    return g;
  }

  void SetUp() override {
    GatewayTest::SetUp();
    fake_->respond_json(kUp1, 200, R"({"from":"1"})");
    fake_->respond_json(kUp2, 200, R"({"from":"2"})");
  }

  // A request arriving from the trusted proxy over plain HTTP, with the client's certificate
  // in Client-Cert (or none).
  http::Request via_proxy(std::string method, std::string target, const std::string& token,
                          const crypto::IssuedCertificate* cert) {
    auto r = request(std::move(method), std::move(target), token, nullptr);
    r.remote_address = kProxy;
    r.tls = false;
    if (cert) {
      auto parsed = crypto::parse_certificate_pem(cert->cert_pem);
      EXPECT_TRUE(parsed);
      r.headers.add("Client-Cert", client_cert_header_value(parsed->der));
    }
    return r;
  }

  http::ClientRequest last_upstream(std::string_view prefix = kUpstream) {
    auto all = fake_->requests(prefix);
    EXPECT_FALSE(all.empty());
    return all.empty() ? http::ClientRequest{} : all.back();
  }
};

// ---- RFC 9440 Client-Cert --------------------------------------------------------------------

TEST_F(GatewayPolicy, TrustedProxyClientCertBindsTheToken) {
  start(settings());
  auto r = call(via_proxy("GET", "/accounts/1", good_token(), &data_->cert1));
  EXPECT_EQ(r.status, 201) << r.body;
  auto up = last_upstream();
  // The upstream receives the certificate the proxy vouched for, re-encoded by the gateway.
  auto parsed = crypto::parse_certificate_pem(data_->cert1.cert_pem);
  EXPECT_EQ(up.headers.get("Client-Cert").value_or(""), client_cert_header_value(parsed->der));
  EXPECT_EQ(up.headers.count("Client-Cert"), 1u);
}

TEST_F(GatewayPolicy, TrustedProxyWithAnotherCertificateIsCnfMismatch) {
  start(settings());
  expect_refused(call(via_proxy("GET", "/accounts/1", good_token(), &data_->cert2)), 401,
                 invalid_token("the access token is bound to another certificate"));
}

TEST_F(GatewayPolicy, TrustedProxyWithoutClientCertIsCertificateMissing) {
  start(settings());
  expect_refused(call(via_proxy("GET", "/accounts/1", good_token(), nullptr)), 401,
                 invalid_token("the access token is bound to a certificate; present it"));
}

TEST_F(GatewayPolicy, UntrustedPeerClientCertIsIgnoredAndStripped) {
  start(settings());
  auto req = via_proxy("GET", "/accounts/1", good_token(), &data_->cert1);
  req.remote_address = "10.0.1.5";  // outside 10.0.0.0/24
  expect_refused(call(std::move(req)), 401,
                 invalid_token("the access token is bound to a certificate; present it"));
  // Over mTLS from an untrusted peer: the connection's certificate counts, the header never.
  auto forged = request("GET", "/accounts/1", good_token(), cert2_);
  auto parsed = crypto::parse_certificate_pem(data_->cert1.cert_pem);
  forged.headers.add("Client-Cert", client_cert_header_value(parsed->der));
  expect_refused(call(std::move(forged)), 401,
                 invalid_token("the access token is bound to another certificate"));
  auto ok = request("GET", "/accounts/1", good_token(), cert1_);
  ok.headers.add("Client-Cert", ":AAAA:");
  EXPECT_EQ(call(std::move(ok)).status, 201);
  auto up = last_upstream();
  auto own = crypto::parse_certificate_pem(data_->cert1.cert_pem);
  EXPECT_EQ(up.headers.get("Client-Cert").value_or(""), client_cert_header_value(own->der));
}

TEST_F(GatewayPolicy, MalformedClientCertFromTrustedProxyIs400) {
  start(settings());
  for (const std::string& bad : std::vector<std::string>{":AAAA:", "AAAA", ":not base64!:", "::", ":", "", ":QUJD:;a=1",
                          ":QUJD:, :QUJD:", std::string(":") + std::string(20000, 'A') + ":"}) {
    auto req = via_proxy("GET", "/accounts/1", good_token(), nullptr);
    req.headers.add("Client-Cert", bad);
    auto r = call(std::move(req));
    expect_refused(r, 400, "");
    EXPECT_EQ(error_of(r), "invalid_request") << bad;
  }
  // Two Client-Cert fields: which one would the upstream believe? Neither.
  auto two = via_proxy("GET", "/accounts/1", good_token(), &data_->cert1);
  std::string again(*two.headers.get("Client-Cert"));
  two.headers.add("Client-Cert", again);
  expect_refused(call(std::move(two)), 400, "");
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

TEST(ClientCertHeader, ParserRefusesMalformedValues) {
  for (const std::string& bad : std::vector<std::string>{"", ":", "::", "AAAA", ":AAAA", "AAAA:", ":AA AA:", ":AAAA:;p=1",
                          ":QUJD:", ":@@@@:", ":AAAA:x", "(:AAAA:)", "\":AAAA:\"",
                          std::string(":") + std::string(kMaxClientCertHeader, 'A') + ":"}) {
    auto r = parse_client_cert_header(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), GwErrc::ClientCertInvalid);
  }
}

// ---- scope header from the front load balancer ---------------------------------------------

TEST_F(GatewayPolicy, ScopeHeaderFromTrustedProxyAddsRequiredScopes) {
  start(settings());
  auto req = via_proxy("GET", "/accounts/1", good_token(), &data_->cert1);
  req.headers.add("x-my-scope", "accounts:special");
  auto r = call(std::move(req));
  expect_refused(r, 403,
                 challenge("insufficient_scope", "the access token lacks a required scope") +
                     ", scope=\"accounts accounts:special\"");
  auto ok = via_proxy("GET", "/accounts/1", good_token(), &data_->cert1);
  ok.headers.add("x-my-scope", "payments");
  EXPECT_EQ(call(std::move(ok)).status, 201);
  EXPECT_EQ(last_upstream().headers.count("x-my-scope"), 0u);  // consumed, not forwarded
}

TEST_F(GatewayPolicy, ScopeHeaderFromUntrustedPeerIsIgnoredAndStripped) {
  start(settings());
  auto req = request("GET", "/accounts/1", good_token(), cert1_);
  req.headers.add("x-my-scope", "accounts:special");
  EXPECT_EQ(call(std::move(req)).status, 201);
  EXPECT_EQ(last_upstream().headers.count("x-my-scope"), 0u);
}

// ---- per-method scopes ------------------------------------------------------------------------

TEST_F(GatewayPolicy, PerMethodScopes) {
  start(settings());
  auto c = claims();
  c["scope"] = "accounts";
  const auto read_only = sign(c, data_->a_ec);
  EXPECT_EQ(call(request("GET", "/accounts/1", read_only, cert1_)).status, 201);
  expect_refused(call(request("POST", "/accounts/1", read_only, cert1_)), 403,
                 challenge("insufficient_scope", "the access token lacks a required scope") +
                     ", scope=\"payments\"");
  expect_refused(call(request("DELETE", "/accounts/1", good_token(), cert1_)), 403,
                 challenge("insufficient_scope", "the access token lacks a required scope") +
                     ", scope=\"admin\"");
  EXPECT_EQ(call(request("POST", "/accounts/1", good_token(), cert1_)).status, 201);
}

// ---- host and SNI ---------------------------------------------------------------------------

TEST_F(GatewayPolicy, HostAndSniMustAgree) {
  start(settings());
  auto ok = request("GET", "/hosted", good_token(), cert1_);
  ok.sni = "api.example";
  EXPECT_EQ(call(std::move(ok)).status, 201);
  auto mis = request("GET", "/hosted", good_token(), cert1_);
  mis.sni = "other.example";
  auto r = call(std::move(mis));
  expect_refused(r, 421, "");
  EXPECT_EQ(error_of(r), "misdirected_request");
  auto other_host = request("GET", "/hosted", good_token(), cert1_);
  other_host.headers.set("Host", "other.example");
  expect_refused(call(std::move(other_host)), 404, "");
}

// ---- forwarding -----------------------------------------------------------------------------

TEST_F(GatewayPolicy, ClaimHeadersReplaceIncomingOnes) {
  start(settings());
  const std::string token = good_token();
  auto req = request("GET", "/accounts/1", token, cert1_);
  req.headers.add("X-User", "admin");
  req.headers.add("x-client", "someone");
  req.headers.add("X-Forwarded-For", "1.2.3.4");
  EXPECT_EQ(call(std::move(req)).status, 201);
  auto up = last_upstream();
  EXPECT_EQ(up.headers.count("X-User"), 1u);
  EXPECT_EQ(up.headers.get("X-User").value_or(""), "partner-client");
  EXPECT_EQ(up.headers.get("X-Client").value_or(""), "partner-client");
  EXPECT_EQ(up.headers.get("X-Scope").value_or(""), "accounts payments");
  EXPECT_EQ(up.headers.get("X-Forwarded-For").value_or(""), "203.0.113.7");  // untrusted: reset
  EXPECT_EQ(up.headers.get("Authorization").value_or(""), "Bearer " + token);
}

TEST_F(GatewayPolicy, TrustedProxyKeepsTheForwardedChain) {
  start(settings());
  auto req = via_proxy("GET", "/accounts/1", good_token(), &data_->cert1);
  req.headers.add("X-Forwarded-For", "198.51.100.9");
  req.headers.add("X-Forwarded-Proto", "https");
  EXPECT_EQ(call(std::move(req)).status, 201);
  auto up = last_upstream();
  EXPECT_EQ(up.headers.get("X-Forwarded-For").value_or(""), "198.51.100.9, 10.0.0.5");
  EXPECT_EQ(up.headers.get("X-Forwarded-Proto").value_or(""), "https");
}

TEST_F(GatewayPolicy, ClaimWithLineBreakIsNeverForwarded) {
  start(settings());
  auto c = claims();
  c["sub"] = "alice\r\nX-Admin: true";
  expect_refused(call(request("GET", "/accounts/1", sign(c, data_->a_ec), cert1_)), 401,
                 invalid_token("the access token has an invalid claim"));
  EXPECT_EQ(fake_->count(kUpstream), 0u);
}

TEST(ForwardOptions, LineBreaksAreNeverForwarded) {
  http::Request in;
  in.method = "GET";
  in.target = "/x";
  in.path = "/x";
  in.remote_address = "203.0.113.7";
  in.headers.add("X-Ok", "fine");
  ForwardOptions o;
  std::vector<http::Headers::Field> add{{"X-User", "alice"}};
  o.add = &add;
  auto ok = make_upstream_request(in, "http://u", "id-1", o);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->headers.get("X-User").value_or(""), "alice");
  for (const char* bad : {"a\r\nX-Admin: 1", "a\nb", "a\rb"}) {
    add = {{"X-User", bad}};
    EXPECT_FALSE(make_upstream_request(in, "http://u", "id-1", o)) << bad;
  }
  add = {{"X-User", std::string("a\0b", 3)}};
  EXPECT_FALSE(make_upstream_request(in, "http://u", "id-1", o));
  add.clear();
  o.target = "/x\r\nHost: evil";
  EXPECT_FALSE(make_upstream_request(in, "http://u", "id-1", o));
  // A stripped name goes, whatever its case.
  std::vector<std::string> strip{"x-ok"};
  o.target.clear();
  o.strip = &strip;
  auto stripped = make_upstream_request(in, "http://u", "id-1", o);
  ASSERT_TRUE(stripped);
  EXPECT_EQ(stripped->headers.count("X-Ok"), 0u);
}

TEST_F(GatewayPolicy, NormalisedPathIsForwarded) {
  start(settings());
  EXPECT_EQ(call(request("GET", "/%61ccounts/1?x=%2F", good_token(), cert1_)).status, 201);
  EXPECT_EQ(last_upstream().url, std::string(kUpstream) + "/accounts/1?x=%2F");
}

TEST_F(GatewayPolicy, PoolIsRoundRobin) {
  start(settings());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(call(request("GET", "/pool/x", good_token(), cert1_)).status, 200);
  }
  EXPECT_EQ(fake_->count(kUp1), 2u);
  EXPECT_EQ(fake_->count(kUp2), 2u);
}

TEST_F(GatewayPolicy, IdempotentRequestIsRetriedOnTheNextTarget) {
  start(settings());
  fake_->fail(kUp1, make_error_code(boost::system::errc::connection_refused));
  for (int i = 0; i < 2; ++i) {
    auto r = call(request("GET", "/pool/x", good_token(), cert1_));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, R"({"from":"2"})");
  }
  for (const char* m : {"PUT", "DELETE", "HEAD", "OPTIONS"}) {
    EXPECT_EQ(call(request(m, "/pool/x", good_token(), cert1_)).status, 200) << m;
  }
}

// A reset may come after the request arrived: a POST is never sent twice (RFC 9110 §9.2.2).
TEST_F(GatewayPolicy, NonIdempotentRequestIsNotRetried) {
  start(settings());
  fake_->fail(kUp1, make_error_code(boost::system::errc::connection_reset));
  fake_->fail(kUp2, make_error_code(boost::system::errc::connection_reset));
  const std::size_t before = fake_->count(kUp1) + fake_->count(kUp2);
  auto r = call(request("POST", "/pool/x", good_token(), cert1_));
  expect_refused(r, 502, "");
  EXPECT_EQ(error_of(r), "upstream_unavailable");
  EXPECT_EQ(fake_->count(kUp1) + fake_->count(kUp2), before + 1);
}

// Refused, unreachable or a connect timeout: no byte left, so even a POST goes to the next
// target (nothing can be applied twice).
TEST_F(GatewayPolicy, RequestThatNeverConnectedGoesToTheNextTargetWhateverItsMethod) {
  start(settings());
  for (const ErrorCode& never_sent :
       {make_error_code(boost::system::errc::connection_refused),
        make_error_code(boost::system::errc::host_unreachable),
        make_error_code(http::ClientErrc::ConnectTimeout)}) {
    fake_->fail(kUp1, never_sent);
    for (const char* m : {"POST", "PATCH", "GET"}) {
      const std::size_t before = fake_->count(kUp2);
      auto r = call(request(m, "/pool/x", good_token(), cert1_));
      EXPECT_EQ(r.status, 200) << m << " " << never_sent.message() << " " << r.body;
      EXPECT_EQ(r.body, R"({"from":"2"})") << m;
      EXPECT_EQ(fake_->count(kUp2), before + 1) << m;
    }
  }
}

// Every target timing out at connect: 504, one attempt per allowed retry, not the response
// timeout's "never retried".
TEST_F(GatewayPolicy, ConnectTimeoutOnEveryTargetIs504) {
  start(settings());
  fake_->fail(kUp1, make_error_code(http::ClientErrc::ConnectTimeout));
  fake_->fail(kUp2, make_error_code(http::ClientErrc::ConnectTimeout));
  const std::size_t before = fake_->count(kUp1) + fake_->count(kUp2);
  auto r = call(request("POST", "/pool/x", good_token(), cert1_));
  expect_refused(r, 504, "");
  EXPECT_EQ(error_of(r), "upstream_timeout");
  EXPECT_EQ(fake_->count(kUp1) + fake_->count(kUp2), before + 2);
}

// The route's request carries the configured connect bound to the client.
TEST_F(GatewayPolicy, UpstreamRequestCarriesTheConnectTimeout) {
  auto s = settings();
  s.upstream_connect_timeout_ms = 750;
  start(s);
  ASSERT_EQ(call(request("GET", "/accounts/1", good_token(), cert1_)).status, 201);
  EXPECT_EQ(last_upstream().connect_timeout, std::chrono::milliseconds(750));
  EXPECT_EQ(last_upstream().timeout, std::chrono::milliseconds(s.upstream_timeout_ms));
}

TEST_F(GatewayPolicy, TimeoutIsNotRetried) {
  start(settings());
  fake_->fail(kUp1, make_error_code(boost::system::errc::timed_out));
  fake_->fail(kUp2, make_error_code(boost::system::errc::timed_out));
  auto r = call(request("GET", "/pool/x", good_token(), cert1_));
  expect_refused(r, 504, "");
  EXPECT_EQ(error_of(r), "upstream_timeout");
  EXPECT_EQ(fake_->count(kUp1) + fake_->count(kUp2), 1u);
}

TEST_F(GatewayPolicy, RetriesAreBounded) {
  auto s = settings();
  s.upstream_retries = 1;
  start(s);
  fake_->fail(kUp1, make_error_code(boost::system::errc::connection_reset));
  fake_->fail(kUp2, make_error_code(boost::system::errc::connection_reset));
  auto r = call(request("GET", "/pool/x", good_token(), cert1_));
  expect_refused(r, 502, "");
  EXPECT_EQ(fake_->count(kUp1) + fake_->count(kUp2), 2u);
  s.upstream_retries = 0;
}

}  // namespace
}  // namespace fapigate::gw::test
