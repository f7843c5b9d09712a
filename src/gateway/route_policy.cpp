#include "gateway/route_policy.hpp"

#include <algorithm>

#include "core/strings.hpp"

namespace fapigate::gw {
namespace {

// Dot segments and encoded separators let a path mean one thing to the gateway and another to
// the upstream (path confusion); such paths are refused instead of normalised.
bool path_is_safe(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return false;
  }
  for (auto seg : core::split(path.substr(1), '/')) {
    // "..;x" is ".." to servlet-style upstreams that strip path parameters.
    seg = seg.substr(0, seg.find(';'));
    if (seg == "." || seg == "..") {
      return false;
    }
  }
  for (std::size_t i = 0; i + 2 < path.size(); ++i) {
    if (path[i] == '%') {
      char a = path[i + 1];
      char b = static_cast<char>(path[i + 2] | 0x20);
      if (a == '2' && (b == 'f' || b == 'e')) return false;  // %2F %2E
      if (a == '5' && b == 'c') return false;                // %5C
      if (a == '0' && b == '0') return false;                // %00
    }
  }
  return path.find('\\') == std::string_view::npos;
}

bool path_matches(const std::string& pattern, std::string_view path) {
  if (!pattern.empty() && pattern.back() == '*') {
    return path.substr(0, pattern.size() - 1) == std::string_view(pattern).substr(0, pattern.size() - 1);
  }
  return path == pattern;
}

}  // namespace

RouteMatch match_route(const std::vector<config::Route>& routes, std::string_view method,
                       std::string_view path) {
  if (!path_is_safe(path)) {
    return {nullptr, GwErrc::PathInvalid, {}};
  }
  bool path_seen = false;
  std::vector<std::string> allowed;
  for (const auto& r : routes) {
    if (!path_matches(r.path, path)) {
      continue;
    }
    path_seen = true;
    if (r.methods.empty() ||
        std::find(r.methods.begin(), r.methods.end(), method) != r.methods.end()) {
      return {&r, std::nullopt, {}};
    }
    for (const auto& m : r.methods) {
      if (std::find(allowed.begin(), allowed.end(), m) == allowed.end()) {
        allowed.push_back(m);
      }
    }
  }
  if (!path_seen) {
    return {nullptr, GwErrc::NoRoute, {}};
  }
  std::string allow;
  for (const auto& m : allowed) {
    allow += allow.empty() ? m : ", " + m;
  }
  return {nullptr, GwErrc::MethodNotAllowed, std::move(allow)};
}

std::optional<GwErrc> check_route_policy(const config::Route& route, const VerifiedToken& token) {
  if (!route.issuers.empty() &&
      std::find(route.issuers.begin(), route.issuers.end(), token.issuer) == route.issuers.end()) {
    return GwErrc::IssuerUnknown;
  }
  for (const auto& needed : route.scopes) {
    if (std::find(token.scopes.begin(), token.scopes.end(), needed) == token.scopes.end()) {
      return GwErrc::InsufficientScope;
    }
  }
  return std::nullopt;
}

std::string required_scope_string(const config::Route& route) {
  std::string out;
  for (const auto& s : route.scopes) {
    out += out.empty() ? s : " " + s;
  }
  return out;
}

}  // namespace fapigate::gw
