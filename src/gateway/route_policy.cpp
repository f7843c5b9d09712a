#include "gateway/route_policy.hpp"

#include <algorithm>
#include <cctype>

#include "core/strings.hpp"

namespace fapigate::gw {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  // RFC 3986 §2.3
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

bool is_placeholder(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

// `path` is normalised and starts with '/'; so does `pattern` (config validation).
bool path_matches(const std::string& pattern, std::string_view path) {
  const bool prefix = !pattern.empty() && pattern.back() == '*';
  std::string_view pat(pattern);
  if (prefix) {
    pat.remove_suffix(1);
  }
  if (pat.find('{') == std::string_view::npos) {
    return prefix ? path.substr(0, pat.size()) == pat : path == pat;
  }
  // Placeholders: segment by segment. In a prefix pattern the last literal piece is a string
  // prefix of the rest of the path, as it is without placeholders.
  std::size_t pi = 1;
  std::size_t xi = 1;
  while (true) {
    std::size_t pe = pat.find('/', pi);
    const bool last = pe == std::string_view::npos;
    if (last) {
      pe = pat.size();
    }
    std::string_view ps = pat.substr(pi, pe - pi);
    if (xi > path.size()) {
      return false;
    }
    if (last && prefix && !is_placeholder(ps)) {
      return path.substr(xi, ps.size()) == ps;
    }
    std::size_t xe = path.find('/', xi);
    if (xe == std::string_view::npos) {
      xe = path.size();
    }
    std::string_view xs = path.substr(xi, xe - xi);
    if (is_placeholder(ps) ? xs.empty() : ps != xs) {
      return false;
    }
    if (last) {
      return prefix || xe == path.size();
    }
    if (xe == path.size()) {
      return false;
    }
    pi = pe + 1;
    xi = xe + 1;
  }
}

bool has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const config::MethodScopes* method_scopes_for(const config::Route& route, std::string_view m) {
  for (const auto& ms : route.method_scopes) {
    if (ms.method == m) {
      return &ms;
    }
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> normalize_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.size() > 8192) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(path.size());
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    if (c == '\\' || c < 0x20 || c == 0x7f) {
      return std::nullopt;
    }
    if (c != '%') {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (i + 2 >= path.size()) {
      return std::nullopt;
    }
    int hi = hex_value(path[i + 1]);
    int lo = hex_value(path[i + 2]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
    // An encoded separator or control character means one path to the gateway and another
    // to an upstream that decodes it (path confusion): refused, never normalised.
    if (decoded == '/' || decoded == '\\' || decoded < 0x20 || decoded == 0x7f ||
        decoded == '%') {
      return std::nullopt;
    }
    if (is_unreserved(decoded)) {
      out.push_back(static_cast<char>(decoded));  // RFC 3986 §6.2.2.2
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";  // RFC 3986 §6.2.2.1
      out.push_back('%');
      out.push_back(kHex[hi]);
      out.push_back(kHex[lo]);
    }
    i += 2;
  }
  if (out.find("//") != std::string::npos) {
    // Many upstreams merge empty segments, so "//admin" could escape a placeholder match.
    return std::nullopt;
  }
  const bool no_dot_segment =
      core::for_each_part(std::string_view(out).substr(1), '/', [](std::string_view seg) {
        // "..;x" is ".." to servlet-style upstreams that strip path parameters.
        seg = seg.substr(0, seg.find(';'));
        return seg != "." && seg != "..";
      });
  if (!no_dot_segment) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> host_of(std::string_view h) {
  h = core::trim(h);
  if (h.empty() || h.size() > 255) {
    return std::nullopt;
  }
  std::string_view name = h;
  if (h.front() == '[') {
    auto close = h.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    name = h.substr(0, close + 1);
  } else if (auto colon = h.find(':'); colon != std::string_view::npos) {
    name = h.substr(0, colon);
  }
  std::string out;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '/' || c == '@' || c == '\\') {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(std::tolower(u)));
  }
  if (out.empty()) {
    return std::nullopt;
  }
  // RFC 1034: a trailing dot names the same host.
  if (out.size() > 1 && out.back() == '.') {
    out.pop_back();
    // "a.example.." is no host name (an empty label) and would come out as "a.example.", a
    // second spelling that is neither the route's host nor the SNI. Found by
    // tests/gateway/gateway_headers_fuzz.cpp (tests/fuzz/regressions/gateway_headers).
    if (out.back() == '.') {
      return std::nullopt;
    }
  }
  return out;
}

RouteMatch match_route(const std::vector<config::Route>& routes, std::string_view method,
                       std::string_view raw_path, std::string_view host) {
  auto path = normalize_path(raw_path);
  if (!path) {
    return {nullptr, GwErrc::PathInvalid, {}, {}};
  }
  bool path_seen = false;
  std::vector<std::string> allowed;
  for (const auto& r : routes) {
    if (!r.host.empty() && (host.empty() || !core::iequals(r.host, host))) {
      continue;
    }
    if (!path_matches(r.path, *path)) {
      continue;
    }
    path_seen = true;
    if (r.methods.empty() || has(r.methods, method)) {
      return {&r, std::nullopt, {}, std::move(*path)};
    }
    for (const auto& m : r.methods) {
      if (!has(allowed, m)) {
        allowed.push_back(m);
      }
    }
  }
  if (!path_seen) {
    return {nullptr, GwErrc::NoRoute, {}, {}};
  }
  std::string allow;
  for (const auto& m : allowed) {
    allow += allow.empty() ? m : ", " + m;
  }
  return {nullptr, GwErrc::MethodNotAllowed, std::move(allow), {}};
}

RouteMatch match_route(const std::vector<config::Route>& routes, std::string_view method,
                       std::string_view path) {
  return match_route(routes, method, path, {});
}

std::optional<GwErrc> check_route_policy(const config::Route& route, const VerifiedToken& token,
                                         std::string_view method,
                                         const std::vector<std::string>& extra_scopes) {
  if (!route.issuers.empty() && !has(route.issuers, token.issuer)) {
    return GwErrc::IssuerUnknown;
  }
  if (!route.audiences.empty() &&
      std::none_of(route.audiences.begin(), route.audiences.end(),
                   [&token](const std::string& a) { return has(token.audiences, a); })) {
    // RFC 9068 §4: the resource must be among the token's audiences.
    return GwErrc::AudienceMismatch;
  }
  auto all_of = [&token](const std::vector<std::string>& needed) {
    return std::all_of(needed.begin(), needed.end(),
                       [&token](const std::string& s) { return has(token.scopes, s); });
  };
  if (!all_of(route.scopes) || !all_of(extra_scopes)) {
    return GwErrc::InsufficientScope;
  }
  if (const auto* ms = method_scopes_for(route, method); ms && !all_of(ms->scopes)) {
    return GwErrc::InsufficientScope;
  }
  if (!route.scopes_any.empty() &&
      std::none_of(route.scopes_any.begin(), route.scopes_any.end(),
                   [&token](const std::string& s) { return has(token.scopes, s); })) {
    return GwErrc::InsufficientScope;
  }
  return std::nullopt;
}

std::string required_scope_string(const config::Route& route, std::string_view method,
                                  const std::vector<std::string>& extra_scopes) {
  std::vector<std::string> all = route.scopes;
  auto add = [&all](const std::vector<std::string>& v) {
    for (const auto& s : v) {
      if (!has(all, s)) {
        all.push_back(s);
      }
    }
  };
  if (const auto* ms = method_scopes_for(route, method)) {
    add(ms->scopes);
  }
  add(extra_scopes);
  add(route.scopes_any);
  std::string out;
  for (const auto& s : all) {
    out += out.empty() ? s : " " + s;
  }
  return out;
}

}  // namespace fapigate::gw
