#include "gateway/gateway_metrics.hpp"

#include "gateway/jwks_cache.hpp"
#include "gateway/token_cache.hpp"

namespace fapigate::gw {
namespace {

using core::metrics::Labels;

constexpr std::size_t kOutcomes = kGwErrcEnd;  // 0 = allowed, then every GwErrc value

constexpr const char* kRequestsHelp =
    "Requests the gateway answered, by route and outcome (allowed, or the refusal reason).";
constexpr const char* kLatencyHelp =
    "Time from receiving a request to handing its response to the server, by route.";
constexpr const char* kUpstreamHelp =
    "Forwarded requests the upstream did not answer, by route and kind.";

// Refusals decided before any route is known; every other outcome needs a route.
bool is_routing_refusal(GwErrc e) {
  return e == GwErrc::NoRoute || e == GwErrc::MethodNotAllowed || e == GwErrc::PathInvalid;
}

}  // namespace

GatewayMetrics::GatewayMetrics(core::metrics::Registry& registry,
                               const std::vector<config::Route>& routes)
    : routes_(routes.size()), requests_((routes.size() + 1) * kOutcomes, nullptr) {
  for (std::size_t r = 0; r <= routes_; ++r) {
    const bool unmatched = r == routes_;
    const std::string route = unmatched ? kUnmatchedRoute : routes[r].name;
    if (!unmatched) {
      requests_[r * kOutcomes] = &registry.counter("fapigate_gateway_requests_total", kRequestsHelp,
                                                   {{"route", route}, {"outcome", "allowed"}});
    }
    for (std::size_t e = 1; e < kOutcomes; ++e) {
      const auto code = static_cast<GwErrc>(e);
      if (unmatched != is_routing_refusal(code)) {
        continue;
      }
      requests_[r * kOutcomes + e] =
          &registry.counter("fapigate_gateway_requests_total", kRequestsHelp,
                            {{"route", route}, {"outcome", std::string(refusal_for(code).label)}});
    }
    if (!unmatched) {
      latency_.push_back(&registry.histogram("fapigate_gateway_request_duration_seconds",
                                             kLatencyHelp, {{"route", route}}));
      upstream_unavailable_.push_back(
          &registry.counter("fapigate_gateway_upstream_errors_total", kUpstreamHelp,
                            {{"route", route}, {"kind", "unavailable"}}));
      upstream_timeout_.push_back(&registry.counter("fapigate_gateway_upstream_errors_total",
                                                    kUpstreamHelp,
                                                    {{"route", route}, {"kind", "timeout"}}));
    }
  }
}

std::size_t GatewayMetrics::slot(std::ptrdiff_t route_index) const {
  return route_index >= 0 && static_cast<std::size_t>(route_index) < routes_
             ? static_cast<std::size_t>(route_index)
             : routes_;
}

void GatewayMetrics::record(std::ptrdiff_t route_index, std::optional<GwErrc> refusal,
                            std::chrono::steady_clock::time_point started) {
  const std::size_t r = slot(route_index);
  const auto outcome = refusal ? static_cast<std::size_t>(*refusal) : 0;
  if (outcome < kOutcomes) {
    if (auto* c = requests_[r * kOutcomes + outcome]) {
      c->inc();
    }
  }
  if (r < routes_) {
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    latency_[r]->observe(elapsed.count());
  }
}

void GatewayMetrics::upstream_error(std::ptrdiff_t route_index, bool timeout) {
  const std::size_t r = slot(route_index);
  if (r < routes_) {
    (timeout ? upstream_timeout_ : upstream_unavailable_)[r]->inc();
  }
}

void register_cache_metrics(core::metrics::Registry& registry,
                            std::weak_ptr<const TokenCache> cache) {
  registry.counter_fn("fapigate_gateway_token_cache_hits_total",
                      "Access tokens found in the verified-token cache (no signature check).", {},
                      [cache] {
                        auto c = cache.lock();
                        return c ? c->hits() : 0;
                      });
  registry.counter_fn("fapigate_gateway_token_cache_misses_total",
                      "Access tokens not in the verified-token cache (or expired there).", {},
                      [cache] {
                        auto c = cache.lock();
                        return c ? c->misses() : 0;
                      });
  registry.gauge_fn("fapigate_gateway_token_cache_entries",
                    "Verified access tokens currently cached.", {}, [cache] {
                      auto c = cache.lock();
                      return c ? static_cast<double>(c->size()) : 0.0;
                    });
}

void register_issuer_metrics(core::metrics::Registry& registry,
                             const std::shared_ptr<IssuerKeys>& issuer) {
  const Labels labels{{"issuer", issuer->settings().issuer}};
  std::weak_ptr<const IssuerKeys> weak = issuer;
  registry.counter_fn("fapigate_gateway_jwks_fetches_total",
                      "JWKS fetches started, per issuer (warm-up, refresh, unknown kid).", labels,
                      [weak] {
                        auto k = weak.lock();
                        return k ? k->fetch_count() : 0;
                      });
  registry.counter_fn(
      "fapigate_gateway_jwks_fetch_failures_total",
      "JWKS fetches that failed (transport, HTTP status, invalid JWKS), per issuer.", labels,
      [weak] {
        auto k = weak.lock();
        return k ? k->fetch_failure_count() : 0;
      });
  registry.counter_fn("fapigate_gateway_introspections_total",
                      "Introspection calls for opaque tokens (phantom token), per issuer.", labels,
                      [weak] {
                        auto k = weak.lock();
                        return k ? k->introspection_count() : 0;
                      });
  registry.counter_fn(
      "fapigate_gateway_introspection_failures_total",
      "Introspection calls that failed (transport, HTTP status, no endpoint), per issuer.", labels,
      [weak] {
        auto k = weak.lock();
        return k ? k->introspection_failure_count() : 0;
      });
  registry.gauge_fn("fapigate_gateway_jwks_keys_loaded",
                    "1 once the issuer's JWKS has been loaded at least once, else 0.", labels,
                    [weak] {
                      auto k = weak.lock();
                      return k && k->keys_loaded() ? 1.0 : 0.0;
                    });
}

}  // namespace fapigate::gw
