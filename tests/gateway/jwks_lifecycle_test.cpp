// JWKS lifecycle: HTTP cache headers bound by jwks_min_age/jwks_max_age, refresh ahead of
// expiry, stale keys bounded by jwks_max_stale, discovery of jwks_uri with the issuer checked.
#include "gateway_fixture.hpp"

#include <optional>
#include <thread>

#include "gateway/jwks_cache.hpp"
#include "gateway/key_refresher.hpp"
#include "support/wait_until.hpp"

namespace fapigate::gw::test {
namespace {

constexpr const char* kIssC = "https://as-c.example";
constexpr const char* kDiscoveryC = "https://as-c.example/.well-known/openid-configuration";
constexpr const char* kJwksC = "https://keys.as-c.example/jwks";

class JwksLifecycle : public GatewayTest {
protected:
  void serve_jwks_a(const std::string& cache_control) {
    http::Response r = http::Response::json(200, jwks_a());
    if (!cache_control.empty()) {
      r.headers.add("Cache-Control", cache_control);
    }
    fake_->respond(kJwksA, r);
  }
  static config::Gateway with_discovered_issuer() {
    auto g = default_settings();
    config::Issuer c;
    c.issuer = kIssC;
    c.audiences = {kAud};
    g.issuers.push_back(c);
    return g;
  }
  std::size_t fetches_after(std::int64_t seconds) {
    clock_.advance(seconds);
    const std::size_t before = fake_->count(kJwksA);
    EXPECT_EQ(call(pay(good_token())).status, 201);
    return fake_->count(kJwksA) - before;
  }
};

TEST_F(JwksLifecycle, MaxAgeDecidesWhenTheBackgroundRefreshHappens) {
  serve_jwks_a("public, max-age=100");
  start();
  // Refreshed ahead of expiry, at 80% of max-age, while the cached keys keep serving.
  EXPECT_EQ(fetches_after(79), 0u);
  EXPECT_EQ(fetches_after(2), 1u);
  EXPECT_EQ(fetches_after(1), 0u);  // not again until the fresh copy ages
}

TEST_F(JwksLifecycle, MaxAgeIsBoundedBelowAndAbove) {
  serve_jwks_a("max-age=1");  // below jwks_min_age (30): 30
  auto s = default_settings();
  s.issuers[0].jwks_min_age = 30;
  start(s);
  EXPECT_EQ(fetches_after(23), 0u);
  EXPECT_EQ(fetches_after(2), 1u);
  serve_jwks_a("max-age=999999");  // above jwks_max_age (300): 300
  EXPECT_EQ(fetches_after(30), 1u);  // the max-age=1 copy is due (it lived 30 s)
  EXPECT_EQ(fetches_after(230), 0u);
  EXPECT_EQ(fetches_after(11), 1u);
}

TEST_F(JwksLifecycle, NoStoreMeansMinimumAge) {
  serve_jwks_a("no-store");
  start();
  EXPECT_EQ(fetches_after(23), 0u);
  EXPECT_EQ(fetches_after(2), 1u);
}

TEST_F(JwksLifecycle, MalformedCacheControlFallsBackToMaxAge) {
  serve_jwks_a("max-age=abc, max-age=-5, max-age");
  start();
  EXPECT_EQ(fetches_after(239), 0u);
  EXPECT_EQ(fetches_after(2), 1u);
}

TEST_F(JwksLifecycle, StaleKeysServeWhileTheIssuerIsDownButOnlyForMaxStale) {
  auto s = default_settings();
  s.issuers[0].jwks_max_stale = 600;
  start(s);
  fake_->fail(kJwksA, make_error_code(boost::system::errc::connection_refused));
  clock_.advance(300 + 590);  // ttl 300 (no cache headers) + 590 s stale
  EXPECT_EQ(call(pay(good_token())).status, 201);
  // Unknown kid while the issuer is down: refused, never "probably fine".
  clock_.advance(5);
  expect_refused(call(pay(sign(claims(), data_->a_ec_rotated))), 401,
                 invalid_token("the token signing key is unknown"));
  clock_.advance(10);  // 905 s: past ttl + max_stale
  expect_refused(call(pay(good_token())), 401,
                 invalid_token("the issuer's keys are unavailable"));
  // The issuer comes back: keys load again on the next (rate-limited) attempt.
  fake_->respond_json(kJwksA, 200, jwks_a());
  clock_.advance(31);
  EXPECT_EQ(call(pay(good_token())).status, 201);
}

TEST_F(JwksLifecycle, IssuerKeysStayApartAfterRefresh) {
  serve_jwks_a("max-age=60");
  start();
  clock_.advance(50);
  EXPECT_EQ(call(pay(good_token())).status, 201);
  expect_refused(call(pay(sign(claims(kIssA), data_->b_ec))), 401,
                 invalid_token("the token signing key is unknown"));
}

// ---- refresh without traffic (gw::KeyRefresher) --------------------------------------------------

TEST_F(JwksLifecycle, RefreshIfDueFollowsTheScheduleOfLookups) {
  serve_jwks_a("max-age=100");
  auto keys = std::make_shared<IssuerKeys>(issuer(kIssA, kJwksA), fake_, clock_, nullptr);
  EXPECT_TRUE(keys->refresh_if_due());   // never loaded: due at once
  EXPECT_FALSE(keys->refresh_if_due());  // already in flight
  fake_->run_all();
  EXPECT_TRUE(keys->keys_loaded());
  clock_.advance(79);
  EXPECT_FALSE(keys->refresh_if_due());
  clock_.advance(1);  // 80% of max-age
  EXPECT_TRUE(keys->refresh_if_due());
  fake_->run_all();
  EXPECT_FALSE(keys->refresh_if_due());  // the fresh copy is young again
  EXPECT_EQ(fake_->count(kJwksA), 2u);
}

TEST_F(JwksLifecycle, RefreshIfDueRetriesAFailingIssuerNoMoreOftenThanLookupsWould) {
  serve_jwks_a("max-age=100");
  auto keys = std::make_shared<IssuerKeys>(issuer(kIssA, kJwksA), fake_, clock_, nullptr);
  ASSERT_TRUE(keys->refresh_if_due());
  fake_->run_all();
  fake_->fail(kJwksA, make_error_code(boost::system::errc::connection_refused));
  clock_.advance(80);
  ASSERT_TRUE(keys->refresh_if_due());
  fake_->run_all();
  EXPECT_EQ(keys->fetch_failure_count(), 1u);
  EXPECT_TRUE(keys->keys_loaded());  // the cached keys stay
  clock_.advance(4);
  EXPECT_FALSE(keys->refresh_if_due());
  clock_.advance(1);  // 5 s after the failed attempt
  EXPECT_TRUE(keys->refresh_if_due());
  fake_->run_all();
  EXPECT_EQ(fake_->count(kJwksA), 3u);
}

// A key the issuer published just after the gateway's last fetch (a rotation), within the
// refetch interval: with a refresher running, the lookup waits for the next permitted fetch
// and finds the key there instead of being refused.
TEST_F(JwksLifecycle, UnknownKidWaitsForTheNextPermittedFetchWhenARefresherRuns) {
  auto settings = issuer(kIssA, kJwksA);
  settings.jwks_refetch_min_interval = 2;
  serve_jwks_a("max-age=100");
  auto keys = std::make_shared<IssuerKeys>(settings, fake_, clock_, nullptr);
  keys->hold_unknown_kids_for_next_fetch(true);
  ASSERT_TRUE(keys->refresh_if_due());
  fake_->run_all();
  ASSERT_TRUE(keys->keys_loaded());
  // The issuer publishes a rotated key right after that fetch.
  fake_->respond_json(kJwksA, 200,
                      jwks_json({&data_->a_rsa, &data_->a_ec, &data_->a_ed, &data_->a_ec_rotated}));
  std::optional<KeyLookup> answer;
  keys->find("a-ec-2", jose::Alg::ES256, [&](KeyLookup k) { answer = std::move(k); });
  EXPECT_FALSE(answer) << "answered before any fetch could bring the key";
  EXPECT_EQ(fake_->count(kJwksA), 1u);
  clock_.advance(1);
  EXPECT_FALSE(keys->refresh_if_due()) << "the interval has not passed";
  clock_.advance(1);
  EXPECT_TRUE(keys->refresh_if_due());
  fake_->run_all();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->outcome, KeyLookup::Outcome::Found);
  EXPECT_EQ(fake_->count(kJwksA), 2u);
}

// The hold is bounded: not without a refresher to start the fetch, not when the next permitted
// fetch is further away than kMaxHoldSeconds, and not for more than kMaxHeldLookups lookups;
// those are refused at once, as before, and none of them makes a fetch.
TEST_F(JwksLifecycle, UnknownKidIsRefusedAtOnceWhenItCannotBeHeld) {
  auto refused_at_once = [&](IssuerKeys& keys, const std::string& kid) {
    // A held lookup is answered later (at the latest when its IssuerKeys goes): the answer
    // must outlive this call.
    auto answer = std::make_shared<std::optional<KeyLookup>>();
    keys.find(kid, jose::Alg::ES256, [answer](KeyLookup k) { *answer = std::move(k); });
    return answer->has_value() && (*answer)->outcome == KeyLookup::Outcome::NoSuchKey;
  };
  serve_jwks_a("max-age=100");
  {
    auto settings = issuer(kIssA, kJwksA);
    settings.jwks_refetch_min_interval = 2;
    auto keys = std::make_shared<IssuerKeys>(settings, fake_, clock_, nullptr);  // no refresher
    keys->prefetch();
    fake_->run_all();
    EXPECT_TRUE(refused_at_once(*keys, "made-up"));
  }
  {
    auto settings = issuer(kIssA, kJwksA);  // jwks_refetch_min_interval 30
    auto keys = std::make_shared<IssuerKeys>(settings, fake_, clock_, nullptr);
    keys->hold_unknown_kids_for_next_fetch(true);
    keys->prefetch();
    fake_->run_all();
    EXPECT_TRUE(refused_at_once(*keys, "made-up")) << "the next fetch is 30 s away";
    clock_.advance(30 - IssuerKeys::kMaxHoldSeconds);
    EXPECT_FALSE(refused_at_once(*keys, "made-up-held")) << "2 s away: held";
    for (std::size_t i = 1; i < IssuerKeys::kMaxHeldLookups; ++i) {
      keys->find("made-up-" + std::to_string(i), jose::Alg::ES256, [](KeyLookup) {});
    }
    EXPECT_TRUE(refused_at_once(*keys, "one-too-many"));
  }
  EXPECT_EQ(fake_->count(kJwksA), 2u) << "one load per IssuerKeys, nothing more";
}

// With no request at all: the first load, then a refresh at 80% of max-age, and nothing in
// between; nothing after the refresher is gone.
TEST_F(JwksLifecycle, RefresherKeepsKeysFreshWithoutTraffic) {
  using namespace std::chrono_literals;
  serve_jwks_a("max-age=100");
  auto keys = std::make_shared<IssuerKeys>(issuer(kIssA, kJwksA), fake_, clock_, nullptr);
  auto wait_for_fetches = [&](std::size_t n) {
    testing::wait_until([&] { return fake_->count(kJwksA) >= n; });
    return fake_->count(kJwksA);
  };
  {
    KeyRefresher refresher({keys}, 10ms);
    EXPECT_EQ(wait_for_fetches(1), 1u);
    fake_->run_all();
    EXPECT_TRUE(keys->keys_loaded());
    std::this_thread::sleep_for(100ms);  // about ten ticks, nothing due
    EXPECT_EQ(fake_->count(kJwksA), 1u);
    clock_.advance(80);
    EXPECT_EQ(wait_for_fetches(2), 2u);
    fake_->run_all();
    EXPECT_EQ(refresher.started_fetches(), 2u);
  }
  clock_.advance(80);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(fake_->count(kJwksA), 2u);
}

// ---- discovery -----------------------------------------------------------------------------------


TEST_F(JwksLifecycle, JwksUriComesFromDiscovery) {
  fake_->respond_json(kDiscoveryC, 200,
                      std::string(R"({"issuer":")") + kIssC + R"(","jwks_uri":")" + kJwksC +
                          R"("})");
  fake_->respond_json(kJwksC, 200, jwks_json({&data_->b_ec}));
  start(with_discovered_issuer());
  EXPECT_EQ(fake_->count(kDiscoveryC), 1u);
  EXPECT_EQ(fake_->count(kJwksC), 1u);
  EXPECT_EQ(call(pay(sign(claims(kIssC), data_->b_ec))).status, 201);
  // A's key does not verify C's tokens.
  expect_refused(call(pay(sign(claims(kIssC), data_->a_ec))), 401,
                 invalid_token("the token signing key is unknown"));
}

TEST_F(JwksLifecycle, DiscoveryNamingAnotherIssuerIsRefused) {
  // RFC 8414 §3.3: a document for another issuer must not lend it keys.
  fake_->respond_json(kDiscoveryC, 200,
                      std::string(R"({"issuer":")") + kIssA + R"(","jwks_uri":")" + kJwksA +
                          R"("})");
  start(with_discovered_issuer());
  EXPECT_EQ(fake_->count(kJwksA), 1u);  // only issuer A's own warm-up fetch
  expect_refused(call(pay(sign(claims(kIssC), data_->a_ec))), 401,
                 invalid_token("the issuer's keys are unavailable"));
}

TEST_F(JwksLifecycle, DiscoveryWithPlainHttpJwksUriIsRefused) {
  fake_->respond_json(kDiscoveryC, 200,
                      std::string(R"({"issuer":")") + kIssC +
                          R"(","jwks_uri":"http://keys.as-c.example/jwks"})");
  start(with_discovered_issuer());
  expect_refused(call(pay(sign(claims(kIssC), data_->b_ec))), 401,
                 invalid_token("the issuer's keys are unavailable"));
}

}  // namespace
}  // namespace fapigate::gw::test
