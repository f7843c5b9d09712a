#include "as/oauth_error.hpp"

#include <cstdlib>

#include "core/json.hpp"
#include "core/log.hpp"

namespace fapigate::as {

std::string_view errc_name(OAuthErrc code) {
  switch (code) {
    case OAuthErrc::InvalidRequest: return "invalid_request";
    case OAuthErrc::InvalidClient: return "invalid_client";
    case OAuthErrc::InvalidGrant: return "invalid_grant";
    case OAuthErrc::UnauthorizedClient: return "unauthorized_client";
    case OAuthErrc::UnsupportedGrantType: return "unsupported_grant_type";
    case OAuthErrc::InvalidScope: return "invalid_scope";
    case OAuthErrc::ServerError: return "server_error";
    case OAuthErrc::TemporarilyUnavailable: return "temporarily_unavailable";
    case OAuthErrc::AccessDenied: return "access_denied";
    case OAuthErrc::UnsupportedResponseType: return "unsupported_response_type";
    case OAuthErrc::InvalidRequestObject: return "invalid_request_object";
    case OAuthErrc::InvalidRequestUri: return "invalid_request_uri";
    case OAuthErrc::RequestNotSupported: return "request_not_supported";
    case OAuthErrc::InvalidRedirectUri: return "invalid_redirect_uri";
    case OAuthErrc::InvalidClientMetadata: return "invalid_client_metadata";
    case OAuthErrc::InvalidSoftwareStatement: return "invalid_software_statement";
    case OAuthErrc::UnapprovedSoftwareStatement: return "unapproved_software_statement";
    case OAuthErrc::InvalidToken: return "invalid_token";
  }
  return "server_error";
}

int http_status(OAuthErrc code) {
  switch (code) {
    case OAuthErrc::InvalidClient: return 401;
    case OAuthErrc::InvalidToken: return 401;
    case OAuthErrc::ServerError: return 500;
    case OAuthErrc::TemporarilyUnavailable: return 503;
    default: return 400;
  }
}

http::Response to_response(const OAuthError& error) {
  std::string body = "{\"error\":";
  body += core::json_quote(errc_name(error.code));
  if (!error.description.empty()) {
    body += ",\"error_description\":";
    body += core::json_quote(error.description);
  }
  body += '}';
  auto r = http::Response::json(http_status(error.code), std::move(body));
  r.headers.add("Cache-Control", "no-store");
  r.headers.add("Pragma", "no-cache");
  if (error.code == OAuthErrc::InvalidToken) {
    // RFC 6750 §3: a refused bearer token is named in the challenge too.
    r.headers.add("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  }
  return r;
}

}  // namespace fapigate::as

namespace boost::system {
void throw_exception_from_error(const fapigate::as::OAuthError& e,
                                const boost::source_location&) {
  fapigate::core::log::error("bug_unchecked_oauth_result", {{"error", e.description}});
  std::abort();
}
}  // namespace boost::system
