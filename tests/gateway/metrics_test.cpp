// The gateway's metrics are part of its contract (STYLE.md §7): each request moves exactly the
// series for its route and outcome, and the cache and JWKS series follow what really happened.
#include <sstream>

#include "gateway/gateway_fixture.hpp"
#include "gateway/gateway_metrics.hpp"

namespace fapigate::gw::test {
namespace {

class GatewayMetricsTest : public GatewayTest {
protected:
  // As GatewayTest::start, with the series in registry_.
  void start_with_metrics(const config::Gateway& settings, Warm warm = Warm::Done) {
    GatewayDeps deps;
    auto fake = fake_;
    deps.issuer_client = [fake](const config::Issuer&) -> Result<std::shared_ptr<http::Client>> {
      return fake;
    };
    deps.upstream_client = fake_;
    deps.clock = &clock_;
    deps.metrics = &registry_;
    auto svc = GatewayService::create(settings, std::move(deps));
    ASSERT_TRUE(svc) << svc.error().message();
    service_ = *svc;
    if (warm != Warm::None) {
      service_->warm_up();
    }
    if (warm == Warm::Done) {
      fake_->run_all();
    }
  }
  void start_with_metrics() { start_with_metrics(default_settings()); }

  // Every sample line of the exposition, "name{labels}" -> value text.
  std::map<std::string, std::string> samples() const {
    std::map<std::string, std::string> out;
    std::istringstream in(registry_.render());
    for (std::string line; std::getline(in, line);) {
      if (line.empty() || line[0] == '#') {
        continue;
      }
      auto sp = line.rfind(' ');
      out[line.substr(0, sp)] = line.substr(sp + 1);
    }
    return out;
  }
  // The value of one series; -1 when it is not exposed at all.
  double value(const std::string& series) const {
    auto all = samples();
    auto it = all.find(series);
    return it == all.end() ? -1 : std::stod(it->second);
  }
  static std::string requests(const std::string& route, const std::string& outcome) {
    return "fapigate_gateway_requests_total{route=\"" + route + "\",outcome=\"" + outcome + "\"}";
  }
  static std::string latency_count(const std::string& route) {
    return "fapigate_gateway_request_duration_seconds_count{route=\"" + route + "\"}";
  }

  // Which samples differ between two scrapes (name -> {before, after}).
  static std::map<std::string, std::pair<std::string, std::string>> changed(
      const std::map<std::string, std::string>& before,
      const std::map<std::string, std::string>& after) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    for (const auto& [k, v] : after) {
      auto it = before.find(k);
      std::string b = it == before.end() ? "<absent>" : it->second;
      if (b != v) {
        out[k] = {b, v};
      }
    }
    return out;
  }
  static bool is_scrape_time_series(const std::string& name) {
    return name.starts_with("fapigate_gateway_token_cache") ||
           name.starts_with("fapigate_gateway_jwks") ||
           name.starts_with("fapigate_gateway_request_duration_seconds_bucket") ||
           name.starts_with("fapigate_gateway_request_duration_seconds_sum");
  }

  core::metrics::Registry registry_;
};

TEST_F(GatewayMetricsTest, EveryRouteAndOutcomeIsRegisteredUpFrontAtZero) {
  start_with_metrics();
  auto all = samples();
  for (const char* route : {"payments", "accounts", "open", "b-only", "both-scopes"}) {
    EXPECT_EQ(all[requests(route, "allowed")], "0") << route;
    EXPECT_EQ(all[requests(route, "cnf_mismatch")], "0") << route;
    EXPECT_EQ(all[requests(route, "upstream_timeout")], "0") << route;
    EXPECT_EQ(all[latency_count(route)], "0") << route;
    // Routing refusals happen before a route is known: never under a route's name.
    EXPECT_EQ(all.count(requests(route, "no_route")), 0u) << route;
  }
  EXPECT_EQ(all[requests(kUnmatchedRoute, "no_route")], "0");
  EXPECT_EQ(all[requests(kUnmatchedRoute, "method_not_allowed")], "0");
  EXPECT_EQ(all[requests(kUnmatchedRoute, "path_invalid")], "0");
  EXPECT_EQ(all.count(requests(kUnmatchedRoute, "allowed")), 0u);
  // 5 routes x (allowed + 24 route-level refusals) + 3 routing refusals.
  std::size_t n = 0;
  for (const auto& [k, v] : all) {
    n += k.starts_with("fapigate_gateway_requests_total{") ? 1 : 0;
  }
  EXPECT_EQ(n, 5u * 25u + 3u);
}

TEST_F(GatewayMetricsTest, AllowedRequestMovesOnlyItsRouteAndOutcome) {
  start_with_metrics();
  auto before = samples();
  auto r = call(pay(good_token()));
  ASSERT_EQ(r.status, 201) << r.body;
  auto diff = changed(before, samples());
  EXPECT_EQ(diff[requests("payments", "allowed")],
            std::make_pair(std::string("0"), std::string("1")));
  EXPECT_EQ(diff[latency_count("payments")], std::make_pair(std::string("0"), std::string("1")));
  for (const auto& [name, values] : diff) {
    if (name == requests("payments", "allowed") || name == latency_count("payments") ||
        is_scrape_time_series(name)) {
      continue;
    }
    ADD_FAILURE() << name << " moved from " << values.first << " to " << values.second;
  }
  // The +Inf bucket holds the one observation (a fake upstream answers well under 10 s).
  EXPECT_EQ(value("fapigate_gateway_request_duration_seconds_bucket{route=\"payments\",le=\"10\"}"),
            1);
}

TEST_F(GatewayMetricsTest, EachRefusalCountsUnderItsLabel) {
  start_with_metrics();
  call(pay(""));  // token_missing
  auto stolen = pay(good_token());
  stolen.peer_certificate = cert2_;
  call(stolen);  // cnf_mismatch
  auto narrow = claims();
  narrow["scope"] = "accounts";
  call(pay(sign(narrow, data_->a_ec)));                                 // insufficient_scope
  call(request("GET", "/nowhere", good_token(), cert1_));               // no_route
  call(request("DELETE", "/domestic-payments", good_token(), cert1_));  // method_not_allowed

  EXPECT_EQ(value(requests("payments", "token_missing")), 1);
  EXPECT_EQ(value(requests("payments", "cnf_mismatch")), 1);
  EXPECT_EQ(value(requests("payments", "insufficient_scope")), 1);
  EXPECT_EQ(value(requests(kUnmatchedRoute, "no_route")), 1);
  EXPECT_EQ(value(requests(kUnmatchedRoute, "method_not_allowed")), 1);
  EXPECT_EQ(value(requests("payments", "allowed")), 0);
  EXPECT_EQ(value(latency_count("payments")), 3);  // unmatched requests have no latency series
}

TEST_F(GatewayMetricsTest, UpstreamFailuresCountByRouteAndKind) {
  start_with_metrics();
  fake_->fail(kUpstream, make_error_code(boost::system::errc::connection_refused));
  EXPECT_EQ(call(pay(good_token())).status, 502);
  fake_->fail(kUpstream, make_error_code(boost::system::errc::timed_out));
  EXPECT_EQ(call(pay(good_token())).status, 504);
  EXPECT_EQ(call(pay(good_token())).status, 504);

  const std::string errors = "fapigate_gateway_upstream_errors_total{route=\"payments\",kind=\"";
  // A refused connect sent nothing, so even the POST was tried once more (upstream_retries 1):
  // two failed attempts, one refused request.
  EXPECT_EQ(value(errors + "unavailable\"}"), 2);
  EXPECT_EQ(value(errors + "timeout\"}"), 2);
  EXPECT_EQ(value(requests("payments", "upstream_unavailable")), 1);
  EXPECT_EQ(value(requests("payments", "upstream_timeout")), 2);
  EXPECT_EQ(value("fapigate_gateway_upstream_errors_total{route=\"accounts\",kind=\"timeout\"}"),
            0);
}

TEST_F(GatewayMetricsTest, TokenCacheSeriesFollowTheCache) {
  start_with_metrics();
  const std::string token = good_token();
  call(pay(token));
  call(pay(token));
  call(pay(token));
  call(pay(good_token()));  // another jti: another entry
  EXPECT_EQ(value("fapigate_gateway_token_cache_misses_total"), 2);
  EXPECT_EQ(value("fapigate_gateway_token_cache_hits_total"), 2);
  EXPECT_EQ(value("fapigate_gateway_token_cache_entries"), 2);
}

TEST_F(GatewayMetricsTest, JwksSeriesAndReadinessPerIssuer) {
  fake_->respond_json(kJwksB, 503, R"({"error":"down"})");
  start_with_metrics(default_settings(), Warm::None);
  auto status = service_->issuer_status();
  ASSERT_EQ(status.size(), 2u);
  EXPECT_FALSE(status[0].keys_loaded);
  EXPECT_EQ(value("fapigate_gateway_jwks_keys_loaded{issuer=\"" + std::string(kIssA) + "\"}"), 0);

  service_->warm_up();
  fake_->run_all();

  const auto a = "{issuer=\"" + std::string(kIssA) + "\"}";
  const auto b = "{issuer=\"" + std::string(kIssB) + "\"}";
  EXPECT_EQ(value("fapigate_gateway_jwks_fetches_total" + a), 1);
  EXPECT_EQ(value("fapigate_gateway_jwks_fetch_failures_total" + a), 0);
  EXPECT_EQ(value("fapigate_gateway_jwks_keys_loaded" + a), 1);
  EXPECT_EQ(value("fapigate_gateway_jwks_fetches_total" + b), 1);
  EXPECT_EQ(value("fapigate_gateway_jwks_fetch_failures_total" + b), 1);
  EXPECT_EQ(value("fapigate_gateway_jwks_keys_loaded" + b), 0);
  status = service_->issuer_status();
  EXPECT_EQ(status[0].issuer, kIssA);
  EXPECT_TRUE(status[0].keys_loaded);
  EXPECT_EQ(status[1].issuer, kIssB);
  EXPECT_FALSE(status[1].keys_loaded);

  // Issuer B recovers: the next allowed fetch (an unknown kid after the retry interval) loads.
  fake_->respond_json(kJwksB, 200, jwks_b());
  clock_.advance(60);
  auto c = claims(kIssB);
  auto r = call(request("GET", "/b-only", sign(c, data_->b_ec), cert1_));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(value("fapigate_gateway_jwks_fetches_total" + b), 2);
  EXPECT_EQ(value("fapigate_gateway_jwks_keys_loaded" + b), 1);
  EXPECT_TRUE(service_->issuer_status()[1].keys_loaded);
}

TEST_F(GatewayMetricsTest, ScrapeAfterTheGatewayIsGoneRendersZerosNotGarbage) {
  start_with_metrics();
  call(pay(good_token()));
  service_.reset();
  EXPECT_EQ(value("fapigate_gateway_token_cache_entries"), 0);
  EXPECT_EQ(value("fapigate_gateway_jwks_keys_loaded{issuer=\"" + std::string(kIssA) + "\"}"), 0);
  // Counters owned by the registry keep their history.
  EXPECT_EQ(value(requests("payments", "allowed")), 1);
}

}  // namespace
}  // namespace fapigate::gw::test
