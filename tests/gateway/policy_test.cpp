// The gateway's pure pieces: route matching and policy, the sender-constraint rule, the
// upstream request/response rewriting, and the GwErrc table.
#include <gtest/gtest.h>

#include <set>

#include "core/base64url.hpp"
#include "gateway/gw_errc.hpp"
#include "gateway/route_policy.hpp"
#include "gateway/sender_constraint.hpp"
#include "gateway/upstream_proxy.hpp"

namespace fapigate::gw::test {
namespace {

config::Route route(std::string name, std::string path, std::vector<std::string> methods,
                    std::vector<std::string> scopes = {}) {
  config::Route r;
  r.name = std::move(name);
  r.path = std::move(path);
  r.methods = std::move(methods);
  r.scopes = std::move(scopes);
  r.upstream = "http://u";
  return r;
}

std::vector<config::Route> routes() {
  return {route("pay", "/domestic-payments", {"POST"}, {"payments"}),
          route("pay-get", "/domestic-payments", {"GET"}, {"accounts"}),
          route("accounts", "/accounts*", {"GET"}, {"accounts"}),
          route("any", "/any", {}),
          route("catch-v1", "/v1/*", {"GET", "PUT"})};
}

std::string matched(std::string_view method, std::string_view path) {
  static const auto rs = routes();
  auto m = match_route(rs, method, path);
  if (m.error) {
    return "error:" + make_error_code(*m.error).message();
  }
  return m.route ? m.route->name : "null";
}

// ---- route matching ----------------------------------------------------------------------------

TEST(RouteMatch, ExactPathAndMethod) {
  EXPECT_EQ(matched("POST", "/domestic-payments"), "pay");
  EXPECT_EQ(matched("GET", "/domestic-payments"), "pay-get");  // a later route, same path
  EXPECT_EQ(matched("ANYTHING", "/any"), "any");               // empty methods: any
}

TEST(RouteMatch, PrefixRoutes) {
  EXPECT_EQ(matched("GET", "/accounts"), "accounts");
  EXPECT_EQ(matched("GET", "/accounts/42/balances"), "accounts");
  EXPECT_EQ(matched("GET", "/v1/x"), "catch-v1");
  EXPECT_EQ(matched("GET", "/v1/"), "catch-v1");
}

TEST(RouteMatch, NoRoute) {
  EXPECT_EQ(matched("GET", "/account"), "error:no_route");
  EXPECT_EQ(matched("GET", "/v1"), "error:no_route");
  EXPECT_EQ(matched("POST", "/domestic-payments/"), "error:no_route");
  EXPECT_EQ(matched("GET", "/Domestic-Payments"), "error:no_route");  // paths are case-sensitive
  EXPECT_EQ(matched("GET", "/"), "error:no_route");
  EXPECT_EQ(match_route({}, "GET", "/x").error, GwErrc::NoRoute);
}

TEST(RouteMatch, MethodNotAllowed) {
  EXPECT_EQ(matched("DELETE", "/domestic-payments"), "error:method_not_allowed");
  EXPECT_EQ(matched("post", "/domestic-payments"), "error:method_not_allowed");
  EXPECT_EQ(matched("POST", "/accounts/1"), "error:method_not_allowed");
  EXPECT_EQ(matched("DELETE", "/v1/x"), "error:method_not_allowed");
}

TEST(RouteMatch, UnsafePathsAreRefused) {
  for (const char* p :
       {"", "accounts", "/accounts/..", "/accounts/../domestic-payments", "/./accounts",
        "/accounts/.", "/v1/%2e%2e/admin", "/v1/%2E./x", "/v1/.%2e/x", "/v1%2fadmin",
        "/v1%2Fadmin", "/v1%5cadmin", "/v1%5Cadmin", "/v1\\admin", "/v1/%00", "//.."}) {
    EXPECT_EQ(match_route(routes(), "GET", p).error, GwErrc::PathInvalid) << p;
  }
}

// Hardening gap (see report): "..;" is a dot segment to Tomcat/Spring-style upstreams, which
// strip ";params" before resolving; the gateway routes it as an ordinary segment.
TEST(RouteMatch, DotSegmentWithPathParameterIsRefused) {
  EXPECT_EQ(match_route(routes(), "GET", "/accounts/..;/admin").error, GwErrc::PathInvalid);
  EXPECT_EQ(match_route(routes(), "GET", "/accounts/.;x/admin").error, GwErrc::PathInvalid);
}

TEST(RouteMatch, OrdinaryPercentEncodingAndDotsInNamesAreFine) {
  EXPECT_EQ(matched("GET", "/accounts/a%20b"), "accounts");
  EXPECT_EQ(matched("GET", "/accounts/file.json"), "accounts");
  EXPECT_EQ(matched("GET", "/accounts/..."), "accounts");
  EXPECT_EQ(matched("GET", "/accounts/.well-known"), "accounts");
}

// ---- route policy ---------------------------------------------------------------------------

VerifiedToken token_with(std::vector<std::string> scopes, std::string issuer = "https://a") {
  VerifiedToken t;
  t.issuer = std::move(issuer);
  t.scopes = std::move(scopes);
  return t;
}

TEST(RoutePolicy, AllRequiredScopesMustBePresent) {
  auto r = route("r", "/r", {}, {"accounts", "payments"});
  EXPECT_EQ(check_route_policy(r, token_with({"payments", "accounts", "extra"})), std::nullopt);
  EXPECT_EQ(check_route_policy(r, token_with({"accounts"})), GwErrc::InsufficientScope);
  EXPECT_EQ(check_route_policy(r, token_with({})), GwErrc::InsufficientScope);
  EXPECT_EQ(check_route_policy(r, token_with({"Accounts", "PAYMENTS"})),
            GwErrc::InsufficientScope);
  EXPECT_EQ(check_route_policy(r, token_with({"accounts payments"})), GwErrc::InsufficientScope);
  EXPECT_EQ(check_route_policy(route("open", "/o", {}), token_with({})), std::nullopt);
}

TEST(RoutePolicy, IssuerAllowList) {
  auto r = route("r", "/r", {});
  r.issuers = {"https://b"};
  EXPECT_EQ(check_route_policy(r, token_with({}, "https://a")), GwErrc::IssuerUnknown);
  EXPECT_EQ(check_route_policy(r, token_with({}, "https://b")), std::nullopt);
  EXPECT_EQ(check_route_policy(r, token_with({}, "https://b/")), GwErrc::IssuerUnknown);
  r.issuers.clear();
  EXPECT_EQ(check_route_policy(r, token_with({}, "https://a")), std::nullopt);
}

TEST(RoutePolicy, RequiredScopeString) {
  EXPECT_EQ(required_scope_string(route("r", "/r", {}, {"accounts", "payments"})),
            "accounts payments");
  EXPECT_EQ(required_scope_string(route("r", "/r", {}, {"payments"})), "payments");
  EXPECT_EQ(required_scope_string(route("r", "/r", {})), "");
}

// ---- sender constraint (RFC 8705 §3) --------------------------------------------------------

constexpr const char* kTp = "A4y3Rx3nm4jJFtzjEWbq5aXqLmgWkIKxK4SNWcT6Vs0";

VerifiedToken bound(std::string x5t) {
  VerifiedToken t;
  t.has_cnf = true;
  t.cnf_x5t_s256 = std::move(x5t);
  return t;
}

http::PeerCertificate cert_with(std::string x5t) {
  http::PeerCertificate c;
  c.x5t_s256 = std::move(x5t);
  c.chain_verified = true;
  return c;
}

TEST(SenderConstraint, BoundTokenWithItsCertificateIsAccepted) {
  auto c = cert_with(kTp);
  EXPECT_EQ(check_sender_constraint(bound(kTp), &c, config::SenderConstraint::Mtls), std::nullopt);
  EXPECT_EQ(check_sender_constraint(bound(kTp), &c, config::SenderConstraint::None), std::nullopt);
}

TEST(SenderConstraint, UnboundTokenDependsOnTheRoute) {
  VerifiedToken t;
  auto c = cert_with(kTp);
  EXPECT_EQ(check_sender_constraint(t, &c, config::SenderConstraint::Mtls), GwErrc::CnfMissing);
  EXPECT_EQ(check_sender_constraint(t, nullptr, config::SenderConstraint::Mtls),
            GwErrc::CnfMissing);
  EXPECT_EQ(check_sender_constraint(t, nullptr, config::SenderConstraint::None), std::nullopt);
}

TEST(SenderConstraint, BoundTokenWithoutCertificate) {
  for (auto mode : {config::SenderConstraint::Mtls, config::SenderConstraint::None}) {
    EXPECT_EQ(check_sender_constraint(bound(kTp), nullptr, mode), GwErrc::CertificateMissing);
  }
}

TEST(SenderConstraint, Mismatch) {
  std::string other = kTp;
  other[0] = 'B';
  auto c = cert_with(other);
  for (auto mode : {config::SenderConstraint::Mtls, config::SenderConstraint::None}) {
    EXPECT_EQ(check_sender_constraint(bound(kTp), &c, mode), GwErrc::CnfMismatch);
  }
  auto shorter = cert_with(std::string(kTp).substr(0, 42));
  EXPECT_EQ(check_sender_constraint(bound(kTp), &shorter, config::SenderConstraint::Mtls),
            GwErrc::CnfMismatch);
  // A certificate view with no thumbprint never matches an (empty) cnf.
  auto empty = cert_with("");
  EXPECT_EQ(check_sender_constraint(bound(kTp), &empty, config::SenderConstraint::Mtls),
            GwErrc::CnfMismatch);
}

TEST(SenderConstraint, CnfWithoutX5tIsNeverIgnored) {
  auto c = cert_with("");
  for (auto mode : {config::SenderConstraint::Mtls, config::SenderConstraint::None}) {
    EXPECT_EQ(check_sender_constraint(bound(""), &c, mode), GwErrc::CnfMismatch);
    EXPECT_EQ(check_sender_constraint(bound(""), nullptr, mode), GwErrc::CnfMismatch);
  }
}

// ---- upstream proxy ---------------------------------------------------------------------------

http::Request incoming() {
  http::Request r;
  r.method = "POST";
  r.target = "/domestic-payments?x=1";
  r.path = "/domestic-payments";
  r.query = "x=1";
  r.remote_address = "198.51.100.4";
  r.tls = true;
  r.body = "payload";
  return r;
}

TEST(UpstreamProxy, HopByHopHeadersAreStrippedCaseInsensitively) {
  auto r = incoming();
  for (const char* h : {"Connection", "keep-alive", "PROXY-CONNECTION", "Proxy-Authenticate",
                        "proxy-authorization", "TE", "Trailer", "transfer-encoding", "Upgrade"}) {
    r.headers.add(h, "x");
  }
  r.headers.add("Accept", "application/json");
  auto u = make_upstream_request(r, "http://up:1", "iid");
  for (const char* h : {"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
                        "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade"}) {
    EXPECT_EQ(u.headers.count(h), 0u) << h;
  }
  EXPECT_EQ(u.headers.get("Accept").value_or(""), "application/json");
}

// Known bug (see report): RFC 9110 §7.6.1 also makes every field named in Connection
// hop-by-hop; those are forwarded today.
TEST(UpstreamProxy, FieldsNamedInConnectionAreStripped) {
  auto r = incoming();
  r.headers.add("Connection", "close, X-Internal-Secret");
  r.headers.add("X-Internal-Secret", "1");
  auto u = make_upstream_request(r, "http://up:1", "iid");
  EXPECT_EQ(u.headers.count("X-Internal-Secret"), 0u);
}

TEST(UpstreamProxy, IdentityHeadersAreReplacedByTheGatewaysOwn) {
  auto r = incoming();
  r.headers.add("client-cert", ":Zm9yZ2Vk:");
  r.headers.add("CLIENT-CERT-CHAIN", ":Zm9yZ2Vk:");
  r.headers.add("x-forwarded-for", "10.0.0.1");
  r.headers.add("X-Forwarded-For", "10.0.0.2");
  r.headers.add("x-forwarded-proto", "http");
  r.headers.add("x-forwarded-host", "evil.example");
  r.headers.add("forwarded", "for=10.0.0.1");
  r.headers.add("X-FAPI-Interaction-Id", "client-chosen");
  r.headers.add("host", "api.example");
  r.headers.add("Authorization", "Bearer tok");
  auto pc = std::make_shared<http::PeerCertificate>();
  pc->der = std::string("\x30\x82\x01\x0a\xff\x00", 6);
  pc->chain_verified = true;
  r.peer_certificate = pc;

  auto u = make_upstream_request(r, "http://up:1", "gw-id");
  EXPECT_EQ(u.method, "POST");
  EXPECT_EQ(u.url, "http://up:1/domestic-payments?x=1");
  EXPECT_EQ(u.body, "payload");
  ASSERT_EQ(u.headers.count("Client-Cert"), 1u);
  EXPECT_EQ(u.headers.get("Client-Cert").value_or(""), ":" + core::base64_encode(pc->der) + ":");
  EXPECT_EQ(u.headers.count("Client-Cert-Chain"), 0u);
  ASSERT_EQ(u.headers.count("X-Forwarded-For"), 1u);
  EXPECT_EQ(u.headers.get("X-Forwarded-For").value_or(""), "198.51.100.4");
  ASSERT_EQ(u.headers.count("X-Forwarded-Proto"), 1u);
  EXPECT_EQ(u.headers.get("X-Forwarded-Proto").value_or(""), "https");
  ASSERT_EQ(u.headers.count("X-Forwarded-Host"), 1u);
  EXPECT_EQ(u.headers.get("X-Forwarded-Host").value_or(""), "api.example");
  EXPECT_EQ(u.headers.count("Forwarded"), 0u);
  EXPECT_EQ(u.headers.count("Host"), 0u);
  ASSERT_EQ(u.headers.count("x-fapi-interaction-id"), 1u);
  EXPECT_EQ(u.headers.get("x-fapi-interaction-id").value_or(""), "gw-id");
  EXPECT_EQ(u.headers.get("Authorization").value_or(""), "Bearer tok");
}

TEST(UpstreamProxy, NoCertificateMeansNoClientCertAndPlainProto) {
  auto r = incoming();
  r.tls = false;
  r.headers.add("Client-Cert", ":Zm9yZ2Vk:");
  auto u = make_upstream_request(r, "http://up:1", "iid");
  EXPECT_EQ(u.headers.count("Client-Cert"), 0u);
  EXPECT_EQ(u.headers.get("X-Forwarded-Proto").value_or(""), "http");
  EXPECT_EQ(u.headers.count("X-Forwarded-Host"), 0u);
}

TEST(UpstreamProxy, UpstreamBaseTrailingSlashesAreTrimmed) {
  auto r = incoming();
  EXPECT_EQ(make_upstream_request(r, "http://up:1//", "i").url, "http://up:1/domestic-payments?x=1");
  EXPECT_EQ(make_upstream_request(r, "http://up:1/base", "i").url,
            "http://up:1/base/domestic-payments?x=1");
}

TEST(UpstreamProxy, ClientResponseDropsHopByHopAndUpstreamInteractionId) {
  http::Response up;
  up.status = 418;
  up.body = "teapot";
  up.headers.add("Content-Type", "text/plain");
  up.headers.add("connection", "close");
  up.headers.add("Transfer-Encoding", "chunked");
  up.headers.add("content-length", "6");
  up.headers.add("Upgrade", "h2c");
  up.headers.add("X-FAPI-INTERACTION-ID", "upstream");
  up.headers.add("Set-Cookie", "a=1");
  up.headers.add("Set-Cookie", "b=2");
  auto r = make_client_response(up, "gw-id");
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.body, "teapot");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "text/plain");
  for (const char* h : {"Connection", "Transfer-Encoding", "Content-Length", "Upgrade"}) {
    EXPECT_EQ(r.headers.count(h), 0u) << h;
  }
  ASSERT_EQ(r.headers.count("x-fapi-interaction-id"), 1u);
  EXPECT_EQ(r.headers.get("x-fapi-interaction-id").value_or(""), "gw-id");
  EXPECT_EQ(r.headers.count("Set-Cookie"), 2u);
}

TEST(UpstreamProxy, ClientCertHeaderIsAStructuredFieldByteSequence) {
  // RFC 9440 §2.1 / RFC 8941 §3.3.5: standard base64 with padding between colons.
  EXPECT_EQ(client_cert_header_value("abc"), ":YWJj:");
  EXPECT_EQ(client_cert_header_value("ab"), ":YWI=:");
  EXPECT_EQ(client_cert_header_value(std::string("\xfb\xff", 2)), ":+/8=:");
}

// ---- GwErrc table -----------------------------------------------------------------------------

TEST(GwErrc, EveryCodeHasItsStatusAndADistinctLabel) {
  struct Want {
    GwErrc code;
    int status;
    std::string_view error;
  };
  const Want want[] = {
      {GwErrc::TokenMissing, 401, ""},
      {GwErrc::TokenInQuery, 400, "invalid_request"},
      {GwErrc::AuthorizationInvalid, 400, "invalid_request"},
      {GwErrc::TokenMalformed, 401, "invalid_token"},
      {GwErrc::AlgNotAllowed, 401, "invalid_token"},
      {GwErrc::TypMismatch, 401, "invalid_token"},
      {GwErrc::IssuerUnknown, 401, "invalid_token"},
      {GwErrc::KeysUnavailable, 401, "invalid_token"},
      {GwErrc::KidNotFound, 401, "invalid_token"},
      {GwErrc::BadSignature, 401, "invalid_token"},
      {GwErrc::AudienceMismatch, 401, "invalid_token"},
      {GwErrc::Expired, 401, "invalid_token"},
      {GwErrc::NotYetValid, 401, "invalid_token"},
      {GwErrc::ClaimInvalid, 401, "invalid_token"},
      {GwErrc::CnfMissing, 401, "invalid_token"},
      {GwErrc::CertificateMissing, 401, "invalid_token"},
      {GwErrc::CnfMismatch, 401, "invalid_token"},
      {GwErrc::InsufficientScope, 403, "insufficient_scope"},
      {GwErrc::NoRoute, 404, ""},
      {GwErrc::MethodNotAllowed, 405, ""},
      {GwErrc::PathInvalid, 400, "invalid_request"},
      {GwErrc::UpstreamUnavailable, 502, ""},
      {GwErrc::UpstreamTimeout, 504, ""},
      {GwErrc::MisdirectedRequest, 421, ""},
      {GwErrc::ClientCertInvalid, 400, "invalid_request"},
      {GwErrc::TokenInactive, 401, "invalid_token"},
      {GwErrc::IntrospectionUnavailable, 503, ""},
  };
  std::set<std::string_view> labels;
  for (const auto& w : want) {
    const Refusal& r = refusal_for(w.code);
    EXPECT_EQ(r.status, w.status) << r.label;
    EXPECT_EQ(r.oauth_error, w.error) << r.label;
    EXPECT_FALSE(r.label.empty());
    EXPECT_TRUE(labels.insert(r.label).second) << "duplicate label " << r.label;
    EXPECT_EQ(make_error_code(w.code).message(), r.label);
    // Descriptions go into a quoted-string: no quote or backslash.
    EXPECT_EQ(r.description.find_first_of("\"\\"), std::string_view::npos) << r.label;
  }
  EXPECT_STREQ(make_error_code(GwErrc::Expired).category().name(), "fapigate.gateway");
  // Out of range is the internal error, never an out-of-bounds read.
  EXPECT_EQ(refusal_for(static_cast<GwErrc>(999)).status, 500);
  EXPECT_EQ(refusal_for(static_cast<GwErrc>(0)).status, 500);
}

}  // namespace
}  // namespace fapigate::gw::test
