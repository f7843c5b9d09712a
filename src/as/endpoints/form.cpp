#include "as/checks/client_auth.hpp"
#include "as/endpoints/endpoints.hpp"
#include "core/strings.hpp"

namespace fapigate::as {

OAuthResult<Form> read_form(const http::Request& request) {
  auto type = request.headers.get("Content-Type");
  // RFC 6749 §4.4.2 / §3.2: parameters are sent form-encoded in the body.
  if (!type || !core::iequals(core::trim(core::split(*type, ';').front()),
                              "application/x-www-form-urlencoded")) {
    return oauth_error(OAuthErrc::InvalidRequest,
                       "the body must be application/x-www-form-urlencoded");
  }
  if (!request.query.empty()) {
    // Credentials and grants in the URL end up in logs and caches; refuse them outright.
    return oauth_error(OAuthErrc::InvalidRequest, "parameters must not be sent in the query");
  }
  auto form = core::parse_form(request.body);
  if (!form) {
    return oauth_error(OAuthErrc::InvalidRequest,
                       "malformed form body, or a parameter was sent more than once");
  }
  return std::move(*form);
}

}  // namespace fapigate::as
