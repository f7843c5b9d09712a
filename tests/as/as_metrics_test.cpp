// AsMetrics counts from the request and the finished response: grant_type from the form, the
// outcome from the status and the RFC 6749 §5.2 error code. Labels never echo client input.
#include "as/as_metrics.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "as/oauth_error.hpp"
#include "core/base64url.hpp"

namespace fapigate::as {
namespace {

http::Request post(std::string path, std::string body) {
  http::Request r;
  r.method = "POST";
  r.path = std::move(path);
  r.target = r.path;
  r.headers.add("Content-Type", "application/x-www-form-urlencoded");
  r.body = std::move(body);
  return r;
}

std::string token_series(const std::string& grant, const std::string& outcome) {
  return "fapigate_as_token_requests_total{grant_type=\"" + grant + "\",outcome=\"" + outcome +
         "\"} ";
}

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(AsMetrics, TokenRequestsByGrantTypeAndOutcome) {
  core::metrics::Registry registry;
  AsMetrics m(registry);
  m.observe(post("/token", "grant_type=client_credentials&scope=a"),
            http::Response::json(200, R"({"access_token":"x"})"));
  m.observe(post("/token", "grant_type=client_credentials"),
            to_response(oauth_error(OAuthErrc::InvalidClient, "no")));
  m.observe(post("/token", "grant_type=client_credentials"),
            to_response(oauth_error(OAuthErrc::InvalidClient, "no")));
  // An unsupported (attacker-chosen) grant_type is "other", never its own label.
  m.observe(post("/token", "grant_type=urn%3Aevil%3Alabel"),
            to_response(oauth_error(OAuthErrc::UnsupportedGrantType, "no")));
  m.observe(post("/token", "%%%"), to_response(oauth_error(OAuthErrc::InvalidRequest, "no")));
  // A 500 without a JSON error body still counts, as "other".
  m.observe(post("/token", "grant_type=client_credentials"), http::Response::text(500, "boom"));

  const std::string text = registry.render();
  EXPECT_TRUE(has(text, token_series("client_credentials", "ok") + "1")) << text;
  EXPECT_TRUE(has(text, token_series("client_credentials", "invalid_client") + "2")) << text;
  EXPECT_TRUE(has(text, token_series("other", "unsupported_grant_type") + "1")) << text;
  EXPECT_TRUE(has(text, token_series("other", "invalid_request") + "1")) << text;
  EXPECT_TRUE(has(text, token_series("client_credentials", "other") + "1")) << text;
  EXPECT_TRUE(has(text, token_series("client_credentials", "invalid_grant") + "0")) << text;
  EXPECT_EQ(text.find("evil"), std::string::npos);
}

TEST(AsMetrics, IntrospectionByOutcomeAndOtherEndpointsIgnored) {
  core::metrics::Registry registry;
  AsMetrics m(registry);
  m.observe(post("/introspect", "token=a"),
            http::Response::json(200, R"({"active":true,"scope":"x"})"));
  m.observe(post("/introspect", "token=b"), http::Response::json(200, R"({"active":false})"));
  m.observe(post("/introspect", "token=c"), http::Response::json(200, R"({"active":false})"));
  m.observe(post("/introspect", "token=d"),
            to_response(oauth_error(OAuthErrc::InvalidClient, "no")));
  // RFC 9701 signed answers: the verdict is inside the token_introspection claim.
  auto jwt_answer = [](const std::string& claims) {
    http::Response r = http::Response::text(
        200, core::base64url_encode(R"({"alg":"PS256","typ":"token-introspection+jwt"})") + "." +
                 core::base64url_encode(claims) + ".c2ln");
    r.headers.set("Content-Type", "application/token-introspection+jwt");
    return r;
  };
  m.observe(post("/introspect", "token=e"),
            jwt_answer(R"({"iss":"x","token_introspection":{"active":true,"scope":"a"}})"));
  m.observe(post("/introspect", "token=f"),
            jwt_answer(R"({"iss":"x","token_introspection":{"active":false}})"));
  http::Request get = post("/token", "grant_type=client_credentials");
  get.method = "GET";
  m.observe(get, http::Response::json(405, "{}"));
  m.observe(post("/revoke", "token=e"), http::Response::json(200, "{}"));

  const std::string text = registry.render();
  const std::string p = "fapigate_as_introspection_requests_total{outcome=\"";
  EXPECT_TRUE(has(text, p + "active\"} 2")) << text;
  EXPECT_TRUE(has(text, p + "inactive\"} 3")) << text;
  EXPECT_TRUE(has(text, p + "invalid_client\"} 1")) << text;
  // The GET and the revocation moved no token series.
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("fapigate_as_token_requests_total{")) {
      EXPECT_TRUE(line.ends_with(" 0")) << line;
    }
  }
}

}  // namespace
}  // namespace fapigate::as
