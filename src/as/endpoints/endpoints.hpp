// The AS endpoints. Each is a thin pipeline (STYLE.md §3): parse, authenticate the client,
// named checks, grant or action, response. All synchronous (SQLite and signing are local).
#pragma once

#include "as/as_context.hpp"
#include "as/checks/client_auth.hpp"
#include "http/message.hpp"

namespace fapigate::as {

http::Response discovery_endpoint(const AsContext& ctx);
http::Response jwks_endpoint(const AsContext& ctx);
http::Response token_endpoint(const AsContext& ctx, const http::Request& request);
http::Response introspection_endpoint(const AsContext& ctx, const http::Request& request);
http::Response revocation_endpoint(const AsContext& ctx, const http::Request& request);

// Shared by the POST endpoints: form body of the right media type, bounded, no repeats.
[[nodiscard]] OAuthResult<Form> read_form(const http::Request& request);

}  // namespace fapigate::as
