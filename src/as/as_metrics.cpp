#include "as/as_metrics.hpp"

#include <algorithm>

#include "as/grants/grant_table.hpp"
#include "as/oauth_error.hpp"
#include "core/base64url.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"

namespace fapigate::as {
namespace {

constexpr const char* kOther = "other";
constexpr const char* kTokenHelp = "Token endpoint requests by grant_type and outcome.";
constexpr const char* kIntrospectionHelp = "Introspection requests by outcome.";

std::size_t index_of(const std::vector<std::string>& v, std::string_view s) {
  auto it = std::find(v.begin(), v.end(), s);
  return it == v.end() ? v.size() - 1 : static_cast<std::size_t>(it - v.begin());
}

// The "error" member of an RFC 6749 §5.2 response body; "" when it has none. Only refusals are
// parsed, and the token endpoint's cost is dominated by signing, so this is off the hot path.
std::string error_of(const http::Response& response) {
  auto body = core::parse_json_object(response.body, core::JsonLimits{4096, 4});
  return body ? std::string(core::get_string(*body, "error").value_or("")) : std::string();
}

// Whether a 200 introspection answer says active: the RFC 7662 JSON object, or the RFC 9701
// signed JWT whose token_introspection claim holds it. This server produced the answer, so the
// JWT payload is read without verifying it again.
bool introspection_active(const http::Response& response) {
  constexpr core::JsonLimits kLimits{64 * 1024, 8};
  const auto type = response.headers.get("Content-Type").value_or("");
  Result<boost::json::object> body = make_error_code(boost::system::errc::invalid_argument);
  const boost::json::object* answer = nullptr;
  if (core::iequals(core::trim(core::split(type, ';').front()),
                    "application/token-introspection+jwt")) {
    auto parts = core::split(response.body, '.');
    auto payload = parts.size() == 3 ? core::base64url_decode(parts[1]) : std::nullopt;
    if (payload) {
      body = core::parse_json_object(*payload, kLimits);
    }
    answer = body ? core::get_object(*body, "token_introspection") : nullptr;
  } else {
    body = core::parse_json_object(response.body, kLimits);
    answer = body ? &*body : nullptr;
  }
  const auto* active = answer ? answer->if_contains("active") : nullptr;
  return active && active->is_bool() && active->get_bool();
}

}  // namespace

AsMetrics::AsMetrics(core::metrics::Registry& registry) {
  grants_ = supported_grant_types();
  grants_.emplace_back(kOther);
  outcomes_.emplace_back("ok");
  for (int e = 0; e <= static_cast<int>(OAuthErrc::TemporarilyUnavailable); ++e) {
    outcomes_.emplace_back(errc_name(static_cast<OAuthErrc>(e)));
  }
  outcomes_.emplace_back(kOther);
  for (const auto& g : grants_) {
    for (const auto& o : outcomes_) {
      token_.push_back(&registry.counter("fapigate_as_token_requests_total", kTokenHelp,
                                         {{"grant_type", g}, {"outcome", o}}));
    }
  }
  for (const char* o : {"active", "inactive"}) {
    introspection_.push_back(&registry.counter("fapigate_as_introspection_requests_total",
                                               kIntrospectionHelp, {{"outcome", o}}));
  }
  for (std::size_t i = 1; i < outcomes_.size(); ++i) {
    introspection_.push_back(&registry.counter("fapigate_as_introspection_requests_total",
                                               kIntrospectionHelp, {{"outcome", outcomes_[i]}}));
  }
}

std::size_t AsMetrics::outcome_of(const http::Response& response) const {
  if (response.status == 200) {
    return 0;
  }
  const std::size_t i = index_of(outcomes_, error_of(response));
  return i == 0 ? outcomes_.size() - 1 : i;  // an error response never counts as "ok"
}

void AsMetrics::observe(const http::Request& request, const http::Response& response) {
  if (request.method != "POST") {
    return;
  }
  if (request.path == "/token") {
    // Only grant_type is wanted: scan for it instead of decoding the whole form again (the
    // endpoint has parsed it once already; a per-token map would be pure overhead).
    std::size_t grant = grants_.size() - 1;
    for (std::string_view pair : core::split(request.body, '&')) {
      constexpr std::string_view kKey = "grant_type=";
      if (pair.substr(0, kKey.size()) == kKey) {
        if (auto value = core::percent_decode(pair.substr(kKey.size()), true)) {
          grant = index_of(grants_, *value);
        }
        break;
      }
    }
    token_[grant * outcomes_.size() + outcome_of(response)]->inc();
  } else if (request.path == "/introspect") {
    if (response.status == 200) {
      introspection_[introspection_active(response) ? 0 : 1]->inc();
    } else {
      introspection_[1 + outcome_of(response)]->inc();
    }
  }
}

}  // namespace fapigate::as
