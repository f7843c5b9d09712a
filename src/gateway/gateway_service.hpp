// The gateway as an http::Handler: interaction id, route, bearer token, verification, sender
// constraint, route policy, then the upstream. Every refusal is an RFC 6750 §3 response with
// WWW-Authenticate; every response carries x-fapi-interaction-id.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"
#include "gateway/gw_errc.hpp"
#include "http/message.hpp"

namespace fapigate::gw {

struct GatewayDeps {
  // HTTP client for an issuer's JWKS (trust and client certificate from its settings).
  std::function<Result<std::shared_ptr<http::Client>>(const config::Issuer&)> issuer_client;
  std::shared_ptr<http::Client> upstream_client;
  // HTTP client for a route with upstream_tls (trust, optional client certificate for mTLS to
  // the upstream). Null: such routes fail to create.
  std::function<Result<std::shared_ptr<http::Client>>(const config::UpstreamTls&)>
      upstream_tls_client;
  const core::Clock* clock = nullptr;
  // Where the gateway registers its series (gateway_metrics.hpp); null: a private registry,
  // so the request path records unconditionally.
  core::metrics::Registry* metrics = nullptr;
  // How often warm_up()'s background refresher looks at the issuers' keys (gw::KeyRefresher);
  // 0: no refresher, keys refresh on traffic only (unit tests drive the clock themselves).
  std::chrono::milliseconds key_refresh_tick{0};
};

// Readiness of one configured issuer.
struct IssuerStatus {
  std::string issuer;
  bool keys_loaded = false;  // a JWKS fetch has succeeded at least once
};

class GatewayService : public http::Handler {
public:
  // Reads each issuer's extra_keys_file and prepares the issuers; no network I/O yet.
  [[nodiscard]] static Result<std::shared_ptr<GatewayService>> create(
      const config::Gateway& settings, GatewayDeps deps);

  // Starts a JWKS fetch for every issuer, so the first request does not wait for one, and the
  // background refresher (GatewayDeps::key_refresh_tick). Called once the listeners are up (in
  // the demo the issuer is this very process).
  virtual void warm_up() = 0;

  // Every configured issuer, in configuration order (the admin /readyz check).
  virtual std::vector<IssuerStatus> issuer_status() const = 0;

  // The public key of gateway.upstream_token_signing as a JWKS document (served on the admin
  // listener at /upstream-jwks); empty when the gateway signs no upstream tokens.
  virtual std::string upstream_jwks() const = 0;
};

// x-fapi-interaction-id (FAPI 1.0 Part 1 §6.2.1-11): echo a well-formed one, else a new UUID.
std::string interaction_id_for(const http::Request& request);

// The access token of a request (RFC 6750 §2.1, Authorization header only), or why there is
// none: TokenInQuery, TokenMissing (none, or another scheme), AuthorizationInvalid (repeated
// header, no token, not a b64token). Public for tests/gateway/gateway_headers_fuzz.cpp.
struct ExtractedBearer {
  std::string_view token;  // into the request's Authorization header: valid while it lives
  std::optional<GwErrc> error;
};
ExtractedBearer extract_bearer(const http::Request& request);

}  // namespace fapigate::gw
