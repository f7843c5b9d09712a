// Route matching and per-route authorization policy. Routes are tried in configuration order;
// a path is exact, or a prefix when the configured path ends with '*'.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hpp"
#include "gateway/gw_errc.hpp"
#include "gateway/verified_token.hpp"

namespace fapigate::gw {

struct RouteMatch {
  const config::Route* route = nullptr;
  std::optional<GwErrc> error;  // NoRoute, MethodNotAllowed or PathInvalid
  std::string allow;            // with MethodNotAllowed: the methods the path accepts (RFC 9110 §15.5.6)
};

RouteMatch match_route(const std::vector<config::Route>& routes, std::string_view method,
                       std::string_view path);

// Issuer allow-list and required scopes (all of them).
std::optional<GwErrc> check_route_policy(const config::Route& route, const VerifiedToken& token);

// "a b" for WWW-Authenticate's scope attribute (RFC 6750 §3).
std::string required_scope_string(const config::Route& route);

}  // namespace fapigate::gw
