// The gateway's metrics. Every series is registered when the gateway is built, from its routes
// and the GwErrc table, so recording a request costs two array indexes and a few relaxed atomic
// adds: no lookup by string, no allocation. Labels are route names and GwErrc labels only
// (bounded, from configuration and code), never a path or anything the client sent.
//
//   fapigate_gateway_requests_total{route,outcome}      outcome: "allowed" or a GwErrc label;
//                                                       route "_unmatched" for no_route,
//                                                       method_not_allowed and path_invalid
//   fapigate_gateway_request_duration_seconds{route}    histogram, matched routes only
//   fapigate_gateway_upstream_errors_total{route,kind}  kind: unavailable | timeout
// Scrape-time series (read from the verifier and the issuers' key caches):
//   fapigate_gateway_token_cache_{hits,misses}_total, fapigate_gateway_token_cache_entries
//   fapigate_gateway_jwks_fetches_total{issuer}, fapigate_gateway_jwks_fetch_failures_total{issuer}
//   fapigate_gateway_jwks_keys_loaded{issuer}            1 once a JWKS fetch succeeded
// Thread-safe (the registry's series are atomics).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "config/model.hpp"
#include "core/metrics.hpp"
#include "gateway/gw_errc.hpp"

namespace fapigate::gw {

class IssuerKeys;
class TokenCache;

inline constexpr const char* kUnmatchedRoute = "_unmatched";

class GatewayMetrics {
public:
  // `routes` is the gateway's route table; a request's route is its index in that table.
  GatewayMetrics(core::metrics::Registry& registry, const std::vector<config::Route>& routes);

  // One finished request. `route_index` is kNoRoute when no route matched; `refusal` is empty
  // when the request was forwarded.
  void record(std::ptrdiff_t route_index, std::optional<GwErrc> refusal,
              std::chrono::steady_clock::time_point started);
  void upstream_error(std::ptrdiff_t route_index, bool timeout);

  // No route (index -1, or outside the table).
  static constexpr std::ptrdiff_t kNoRoute = -1;

private:
  std::size_t slot(std::ptrdiff_t route_index) const;

  std::size_t routes_ = 0;
  // [slot * kOutcomes + outcome], slot routes_ being "_unmatched"; outcome 0 is "allowed",
  // otherwise the GwErrc value. nullptr for a combination that cannot happen.
  std::vector<core::metrics::Counter*> requests_;
  std::vector<core::metrics::Histogram*> latency_;             // [route]
  std::vector<core::metrics::Counter*> upstream_unavailable_;  // [route]
  std::vector<core::metrics::Counter*> upstream_timeout_;      // [route]
};

// Scrape-time series for the verified-token cache and each issuer's keys. The functions hold
// weak references, so a gateway torn down before the registry renders zeros, never dangles.
void register_cache_metrics(core::metrics::Registry& registry,
                            std::weak_ptr<const TokenCache> cache);
void register_issuer_metrics(core::metrics::Registry& registry,
                             const std::shared_ptr<IssuerKeys>& issuer);

}  // namespace fapigate::gw
