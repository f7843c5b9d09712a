// redirect_uri rules for the authorization request: required, and exactly one of the client's
// registered URIs (simple string comparison, RFC 6749 §3.1.2.3 / OIDC Core §3.1.2.1; FAPI 1.0
// Part 1 §5.2.2-8..-10; FAPI 2.0 SP §5.3.2.2-6). RFC 9126 §2.4 would let an authenticated PAR
// client use an unregistered URI; fapigate does not (FAPI 2.0 SP allows it, does not require
// it, and an exact match keeps the open-redirector question closed: F2-09).
#pragma once

#include <optional>
#include <string_view>

#include "as/oauth_error.hpp"
#include "store/store.hpp"

namespace fapigate::as {

// invalid_request when absent, not registered for `client`, or longer than 2048 bytes. Such
// an error must never be redirected to the URI (shown as a page, or JSON at PAR).
[[nodiscard]] std::optional<OAuthError> check_redirect_uri(std::optional<std::string_view> uri,
                                                           const store::ClientRecord& client);

}  // namespace fapigate::as
