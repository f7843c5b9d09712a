// OAuth error responses (RFC 6749 §5.2). `description` is shown to the client and is static
// text; `detail` goes to the log only (node-oidc-provider's error_description / error_detail).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "http/message.hpp"

namespace fapigate::as {

enum class OAuthErrc {
  InvalidRequest,        // 400: missing/duplicated/malformed parameter
  InvalidClient,         // 401: client authentication failed (RFC 6749 §5.2)
  InvalidGrant,          // 400: grant or binding not valid for this client/certificate
  UnauthorizedClient,    // 400: client may not use this grant type
  UnsupportedGrantType,  // 400: grant type not supported by this server
  InvalidScope,          // 400: scope unknown or not allowed for the client
  ServerError,           // 500: the store or signer failed; nothing internal is shown
  TemporarilyUnavailable, // 503
  // Authorization requests (RFC 6749 §4.1.2.1, RFC 9101 §7, RFC 9126 §2.3):
  AccessDenied,            // the user (or the server) refused the request
  UnsupportedResponseType, // response_type not allowed for this client / server
  InvalidRequestObject,    // the request object (JAR) is invalid
  InvalidRequestUri,       // request_uri unknown, expired, used or of another client
  RequestNotSupported,     // request= by value where the client must use PAR
  // Dynamic client registration (RFC 7591 §3.2.2, RFC 7592 §2):
  InvalidRedirectUri,           // 400: a redirect_uris value is not allowed
  InvalidClientMetadata,        // 400: another metadata field is invalid or not allowed
  InvalidSoftwareStatement,     // 400: the software statement is malformed, expired or forged
  UnapprovedSoftwareStatement,  // 400: a well-formed statement from a party not trusted here
  InvalidToken,                 // 401 + WWW-Authenticate Bearer (RFC 6750 §3.1): a bad initial
                                // or registration access token
};

struct OAuthError {
  OAuthErrc code;
  std::string description;  // client-visible, no internal detail
  std::string detail;       // log-only
};

std::string_view errc_name(OAuthErrc code);
int http_status(OAuthErrc code);

// The JSON error response with Cache-Control: no-store (RFC 6749 §5.1, §5.2).
http::Response to_response(const OAuthError& error);

template <class T>
using OAuthResult = boost::system::result<T, OAuthError>;

inline OAuthError oauth_error(OAuthErrc code, std::string description, std::string detail = {}) {
  return OAuthError{code, std::move(description), std::move(detail)};
}

}  // namespace fapigate::as

namespace boost::system {
// `.value()` on an OAuthResult is never called unchecked; reaching this is a bug.
[[noreturn]] void throw_exception_from_error(const fapigate::as::OAuthError& e,
                                             const boost::source_location& loc);
}  // namespace boost::system
