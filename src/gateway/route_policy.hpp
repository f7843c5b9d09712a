// Route matching and per-route authorization policy. Routes are tried in configuration order;
// a route's path is exact, has "{name}" placeholders (one segment each), or is a prefix when it
// ends with '*'. Paths are matched after RFC 3986 §6.2.2 normalisation (percent-encoded
// unreserved characters decoded, hex upper-cased); anything that could mean another path to
// the upstream (dot segments, encoded '/', '\' or control characters) is refused instead.
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
  std::string path;             // the normalised path the route matched (forwarded upstream)
};

// `host`: the request's Host without port, lower-case (empty: routes naming a host never match).
RouteMatch match_route(const std::vector<config::Route>& routes, std::string_view method,
                       std::string_view path, std::string_view host);
// For routes without hosts (every route naming a host is skipped).
RouteMatch match_route(const std::vector<config::Route>& routes, std::string_view method,
                       std::string_view path);

// RFC 3986 §6.2.2 normal form of an origin-form path, or nullopt when it is refused.
std::optional<std::string> normalize_path(std::string_view path);

// The Host header's host part ("api.example:8443" -> "api.example", "[::1]:1" -> "[::1]"),
// lower-cased; nullopt when malformed.
std::optional<std::string> host_of(std::string_view host_header);

// Issuer allow-list, audience, and required scopes: route.scopes (all), route.scopes_any (one),
// the method's method_scopes (all) and `extra_scopes` (all; from a trusted scope_header).
std::optional<GwErrc> check_route_policy(const config::Route& route, const VerifiedToken& token,
                                         std::string_view method = {},
                                         const std::vector<std::string>& extra_scopes = {});

// The scopes a request needs, "a b", for WWW-Authenticate's scope attribute (RFC 6750 §3):
// every all-of scope, then the any-of ones.
std::string required_scope_string(const config::Route& route, std::string_view method = {},
                                  const std::vector<std::string>& extra_scopes = {});

}  // namespace fapigate::gw
