// The AS endpoints. Each is a thin pipeline (STYLE.md §3): parse, authenticate the client,
// named checks, grant or action, response. All synchronous (SQLite and signing are local),
// except that the token endpoint may answer once its token is durable (token_endpoint_async).
#pragma once

#include <functional>

#include "as/as_context.hpp"
#include "as/checks/client_auth.hpp"
#include "http/message.hpp"

namespace fapigate::as {

http::Response discovery_endpoint(const AsContext& ctx);
http::Response jwks_endpoint(const AsContext& ctx);
http::Response token_endpoint(const AsContext& ctx, const http::Request& request);
// The same, answering through `done` (called once, possibly on the store's writer thread): a
// grant with a deferred write (grant_table.hpp) has its token stored with put_token_async, so
// the calling thread does not wait for the disk. `request` is not used once this returns.
void token_endpoint_async(const AsContext& ctx, const http::Request& request,
                          std::function<void(http::Response)> done);
http::Response introspection_endpoint(const AsContext& ctx, const http::Request& request);
http::Response revocation_endpoint(const AsContext& ctx, const http::Request& request);

// Shared by the POST endpoints: form body of the right media type, bounded, no repeats.
[[nodiscard]] OAuthResult<Form> read_form(const http::Request& request);

}  // namespace fapigate::as
