// Client metadata of a dynamic registration (RFC 7591 §2, RFC 7592 §2.2) checked against the
// FAPI registration policy (fapi-requirements ): https redirect URIs only, the
// three FAPI client authentication methods, FAPI algorithms, keys by value of FAPI size, a
// consistent grant_types / response_types pair and the client's profile rules
// (client_policy.hpp). Pure: no store, no clock, no I/O.
//
// Errors are 400 invalid_redirect_uri (redirect_uris) or invalid_client_metadata (everything
// else) with an error_description naming the field. Members this server does not understand
// are dropped, as RFC 7591 §2 requires; the returned metadata is what was registered, so a
// client can see what was not (RFC 7591 §3.2.1).
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "as/oauth_error.hpp"
#include "config/model.hpp"
#include "store/store.hpp"

namespace fapigate::as {

struct RegisteredMetadata {
  store::ClientRecord record;     // client_id and created_at are the caller's
  boost::json::object metadata;   // as registered (also record.metadata_json, serialised)
};

[[nodiscard]] OAuthResult<RegisteredMetadata> validate_client_metadata(
    const boost::json::object& metadata, const config::AuthorizationServer& as);

// Why `uri` is not an acceptable redirect URI, or nullopt when it is: an absolute https URL
// with a host, no fragment (RFC 6749 §3.1.2), no user information, no whitespace. http is
// refused outright, loopback included: RFC 8252 §7.3 loopback redirects are for native public
// clients, and FAPI registers confidential clients only (FAPI 2.0 SP §5.3.2.2-8).
std::optional<std::string> redirect_uri_problem(std::string_view uri);

}  // namespace fapigate::as
