// Route matching by host, "{name}" path placeholders and normalised paths; per-method, any-of,
// audience and header-supplied scope policy.
#include <gtest/gtest.h>

#include "gateway/route_policy.hpp"

namespace fapigate::gw::test {
namespace {

config::Route route(std::string name, std::string path, std::vector<std::string> methods = {},
                    std::string host = {}) {
  config::Route r;
  r.name = std::move(name);
  r.path = std::move(path);
  r.methods = std::move(methods);
  r.host = std::move(host);
  r.upstream = "http://u";
  return r;
}

std::vector<config::Route> routes() {
  return {route("api-accounts", "/accounts/{id}", {"GET", "POST"}, "api.bank.example"),
          route("one-account", "/accounts/{id}", {"GET", "DELETE"}),
          route("balances", "/accounts/{id}/balances", {"GET"}),
          route("tx-prefix", "/accounts/{id}/transactions/*", {"GET"}),
          route("under-id", "/customers/{id}*", {"GET"})};
}

std::string matched(std::string_view method, std::string_view path, std::string_view host = {}) {
  static const auto rs = routes();
  auto m = match_route(rs, method, path, host);
  if (m.error) {
    return "error:" + make_error_code(*m.error).message();
  }
  return m.route->name + " " + m.path;
}

TEST(RoutePattern, PlaceholderMatchesExactlyOneSegment) {
  EXPECT_EQ(matched("GET", "/accounts/42"), "one-account /accounts/42");
  EXPECT_EQ(matched("GET", "/accounts/42/balances"), "balances /accounts/42/balances");
  EXPECT_EQ(matched("GET", "/accounts"), "error:no_route");
  EXPECT_EQ(matched("GET", "/accounts/"), "error:no_route");  // an empty segment is no id
  EXPECT_EQ(matched("GET", "/accounts/42/"), "error:no_route");
  EXPECT_EQ(matched("GET", "/accounts/42/balances/x"), "error:no_route");
  EXPECT_EQ(matched("GET", "/accounts/42/transactions/7"), "tx-prefix /accounts/42/transactions/7");
  EXPECT_EQ(matched("GET", "/accounts/42/transactions/"), "tx-prefix /accounts/42/transactions/");
  EXPECT_EQ(matched("GET", "/accounts/42/transactions"), "error:no_route");
  EXPECT_EQ(matched("GET", "/customers/9/anything/below"), "under-id /customers/9/anything/below");
  EXPECT_EQ(matched("GET", "/customers/9"), "under-id /customers/9");
  EXPECT_EQ(matched("GET", "/customers/"), "error:no_route");
}

TEST(RoutePattern, MethodNotAllowedNamesTheRoutesMethods) {
  auto m = match_route(routes(), "PATCH", "/accounts/42", "");
  EXPECT_EQ(m.error, GwErrc::MethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, DELETE");
}

TEST(RouteHost, ARouteNamingAHostMatchesOnlyThatHost) {
  EXPECT_EQ(matched("POST", "/accounts/1", "api.bank.example"), "api-accounts /accounts/1");
  EXPECT_EQ(matched("POST", "/accounts/1", "API.Bank.Example"), "api-accounts /accounts/1");
  EXPECT_EQ(matched("POST", "/accounts/1", "other.example"), "error:method_not_allowed");
  EXPECT_EQ(matched("POST", "/accounts/1"), "error:method_not_allowed");  // no Host
  EXPECT_EQ(matched("DELETE", "/accounts/1", "api.bank.example"), "one-account /accounts/1");
}

TEST(RouteHost, HostOfStripsPortAndLowerCases) {
  EXPECT_EQ(host_of("API.example:8443"), "api.example");
  EXPECT_EQ(host_of("api.example."), "api.example");
  EXPECT_EQ(host_of("[::1]:8443"), "[::1]");
  EXPECT_EQ(host_of(" api.example "), "api.example");
  EXPECT_EQ(host_of(""), std::nullopt);
  EXPECT_EQ(host_of("[::1"), std::nullopt);
  EXPECT_EQ(host_of("user@evil.example"), std::nullopt);
  EXPECT_EQ(host_of("a b"), std::nullopt);
  EXPECT_EQ(host_of(std::string(300, 'a')), std::nullopt);
}

// Found by fuzz_gateway_headers (tests/fuzz/regressions/gateway_headers/host_double_trailing_dot):
// only one trailing dot was dropped, so "API&.." came out as "api&." and host_of was not
// idempotent; an empty last label is no host at all.
TEST(RouteHost, HostOfRefusesAnEmptyLastLabel) {
  EXPECT_EQ(host_of("api.example.."), std::nullopt);
  EXPECT_EQ(host_of("API&.."), std::nullopt);
  EXPECT_EQ(host_of(".."), std::nullopt);
  EXPECT_EQ(host_of("api.example..:443"), std::nullopt);
  EXPECT_EQ(host_of("."), ".");
  EXPECT_EQ(host_of("api.example.:443"), "api.example");
  EXPECT_EQ(host_of(*host_of("api.example.")), "api.example");
}

TEST(RouteNormalise, UnreservedEscapesAreDecodedSoTheyCannotDodgeARoute) {
  // "%61ccounts" is "accounts" to every upstream; it must meet the same route and policy.
  EXPECT_EQ(matched("GET", "/%61ccounts/42"), "one-account /accounts/42");
  EXPECT_EQ(matched("GET", "/accounts/4%32/balances"), "balances /accounts/42/balances");
  EXPECT_EQ(normalize_path("/a%7eb%2d"), "/a~b-");
  EXPECT_EQ(normalize_path("/a%2bb%3a"), "/a%2Bb%3A");  // reserved stays encoded, hex upper
  EXPECT_EQ(normalize_path("/a%20b"), "/a%20b");
}

TEST(RouteNormalise, ConfusingPathsAreRefused) {
  for (const char* p : {"/accounts/%2e%2e/admin", "/accounts/%2E%2E", "/accounts%2F42",
                        "/accounts/42%5Cx", "/accounts/%00", "/accounts/%0d%0a", "/accounts/%",
                        "/accounts/%4", "/accounts/%zz", "/accounts//42", "//accounts/42",
                        "/accounts/42/%2e", "/accounts/..;/x", "/a\x01", "/a\x7f", "/a%25",
                        "relative", ""}) {
    EXPECT_EQ(match_route(routes(), "GET", p, "").error, GwErrc::PathInvalid) << p;
  }
  EXPECT_EQ(normalize_path(std::string(9000, '/')), std::nullopt);  // bounded
}

// ---- policy -----------------------------------------------------------------------------------

VerifiedToken token(std::vector<std::string> scopes, std::vector<std::string> aud = {}) {
  VerifiedToken t;
  t.issuer = "https://a";
  t.scopes = std::move(scopes);
  t.audiences = std::move(aud);
  return t;
}

config::Route crud() {
  auto r = route("crud", "/accounts/{id}");
  r.method_scopes = {{"GET", {"accounts:read"}}, {"POST", {"accounts:write"}},
                     {"DELETE", {"accounts:write", "accounts:admin"}}};
  return r;
}

TEST(RoutePolicy, PerMethodScopes) {
  auto r = crud();
  EXPECT_EQ(check_route_policy(r, token({"accounts:read"}), "GET"), std::nullopt);
  EXPECT_EQ(check_route_policy(r, token({"accounts:read"}), "POST"), GwErrc::InsufficientScope);
  EXPECT_EQ(check_route_policy(r, token({"accounts:write"}), "POST"), std::nullopt);
  EXPECT_EQ(check_route_policy(r, token({"accounts:write"}), "GET"), GwErrc::InsufficientScope);
  EXPECT_EQ(check_route_policy(r, token({"accounts:write"}), "DELETE"), GwErrc::InsufficientScope);
  EXPECT_EQ(check_route_policy(r, token({"accounts:admin", "accounts:write"}), "DELETE"),
            std::nullopt);
  // A method without its own entry needs only the route-wide scopes.
  EXPECT_EQ(check_route_policy(r, token({}), "HEAD"), std::nullopt);
  EXPECT_EQ(required_scope_string(r, "DELETE"), "accounts:write accounts:admin");
  EXPECT_EQ(required_scope_string(r, "GET"), "accounts:read");
}

TEST(RoutePolicy, AnyOfScopes) {
  auto r = route("any", "/x");
  r.scopes = {"base"};
  r.scopes_any = {"gold", "silver"};
  EXPECT_EQ(check_route_policy(r, token({"base", "silver"})), std::nullopt);
  EXPECT_EQ(check_route_policy(r, token({"base", "gold", "silver"})), std::nullopt);
  EXPECT_EQ(check_route_policy(r, token({"base"})), GwErrc::InsufficientScope);
  EXPECT_EQ(check_route_policy(r, token({"gold"})), GwErrc::InsufficientScope);  // all-of first
  EXPECT_EQ(required_scope_string(r), "base gold silver");
}

TEST(RoutePolicy, HeaderSuppliedScopesAreRequiredToo) {
  auto r = route("f5", "/x");
  r.scopes = {"base"};
  EXPECT_EQ(check_route_policy(r, token({"base"}), "GET", {"x:special"}),
            GwErrc::InsufficientScope);
  EXPECT_EQ(check_route_policy(r, token({"base", "x:special"}), "GET", {"x:special"}),
            std::nullopt);
  EXPECT_EQ(required_scope_string(r, "GET", {"x:special", "base"}), "base x:special");
}

TEST(RoutePolicy, RouteAudience) {
  auto r = route("aud", "/x");
  r.audiences = {"https://accounts.api", "https://other.api"};
  EXPECT_EQ(check_route_policy(r, token({}, {"https://payments.api"})),
            GwErrc::AudienceMismatch);
  EXPECT_EQ(check_route_policy(r, token({}, {})), GwErrc::AudienceMismatch);
  EXPECT_EQ(check_route_policy(r, token({}, {"https://x", "https://other.api"})), std::nullopt);
  r.audiences.clear();
  EXPECT_EQ(check_route_policy(r, token({}, {})), std::nullopt);
}

}  // namespace
}  // namespace fapigate::gw::test
