// Finding a token this AS issued from the string a client or resource server presents, for
// introspection (RFC 7662) and revocation (RFC 7009).
//
// Most tokens are rows in the store, found by their SHA-256. A client_credentials JWT access
// token is not, unless authorization_server.record_client_credentials_tokens says so: it is
// self-contained (RFC 9068), its claims are the record, and only its revocation writes a row
// (a revoked row by its hash, which then wins over the claims). That keeps the durable write
// off the token endpoint's hottest path without losing introspection or revocation. With the
// setting on, the store is the whole truth again and only a stored token is found.
#pragma once

#include <optional>
#include <string_view>

#include "as/as_context.hpp"
#include "core/result.hpp"
#include "store/store.hpp"

namespace fapigate::as {

struct FoundToken {
  store::TokenRecord record;
  bool in_store = true;  // false: rebuilt from a self-contained JWT's verified claims
};

// The token's record, or nullopt when it is none of ours: a JWT must carry our signature (any
// key still published) before anything else is looked at; an opaque token is only ever known by
// its hash. An error only when the store could not answer.
[[nodiscard]] Result<std::optional<FoundToken>> find_issued_token(const AsContext& ctx,
                                                                  std::string_view token);

}  // namespace fapigate::as
