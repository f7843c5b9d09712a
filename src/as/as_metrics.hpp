// The authorization server's metrics, observed from each request and its finished response, so
// the endpoints themselves stay free of counting. Series are registered up front:
//   fapigate_as_token_requests_total{grant_type,outcome}   grant_type: a supported grant, or
//                                                          "other" (missing, unsupported);
//                                                          outcome: "ok" or the RFC 6749 §5.2
//                                                          error code, "other" for anything else
//   fapigate_as_introspection_requests_total{outcome}      "active", "inactive" or the error code
// Labels come from the grant table and the OAuthErrc names, never from the request itself.
// Thread-safe.
#pragma once

#include <vector>

#include "core/metrics.hpp"
#include "http/message.hpp"

namespace fapigate::as {

class AsMetrics {
public:
  explicit AsMetrics(core::metrics::Registry& registry);

  // Counts token and introspection requests; other endpoints are ignored.
  void observe(const http::Request& request, const http::Response& response);

private:
  // Index into outcomes_: 0 for a 200, else the response's error code (or "other").
  std::size_t outcome_of(const http::Response& response) const;

  std::vector<std::string> grants_;                     // supported grant types, then "other"
  std::vector<std::string> outcomes_;                   // "ok", each OAuthErrc name, then "other"
  std::vector<core::metrics::Counter*> token_;          // [grant * outcomes + outcome]
  std::vector<core::metrics::Counter*> introspection_;  // active, inactive, then outcomes_[1..]
};

}  // namespace fapigate::as
