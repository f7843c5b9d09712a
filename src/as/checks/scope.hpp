// Scope selection (RFC 6749 §3.3): the requested scopes must all be registered for the client;
// with no scope parameter the client's registered scopes are granted.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "as/oauth_error.hpp"
#include "store/store.hpp"

namespace fapigate::as {

[[nodiscard]] OAuthResult<std::vector<std::string>> select_scopes(
    const std::optional<std::string>& requested, const store::ClientRecord& client);

}  // namespace fapigate::as
