// Grants are a table, not an if-chain (node-oidc-provider's grants/index.js). A grant runs after
// client authentication and returns the token response body.
#pragma once

#include <string>
#include <string_view>

#include "as/as_context.hpp"
#include "as/checks/client_auth.hpp"
#include "as/oauth_error.hpp"
#include "as/token_issuer.hpp"
#include "http/message.hpp"

namespace fapigate::as {

using GrantFn = OAuthResult<std::string> (*)(const AsContext& ctx, const http::Request& request,
                                             const Form& form,
                                             const store::ClientRecord& client);

// A grant whose only store write is its access token's record may hand that write back
// instead of making it: the token endpoint then stores it with put_token_async (group commit,
// store/sqlite/group_commit.hpp) and answers from the completion, so its thread serves other
// connections while the disk syncs. Only for grants with no other write that must precede the
// response or that a later request could race (a code or refresh token redemption must not).
struct DeferredTokenResponse {
  std::string body;  // sent only once `token.record` is durable
  PreparedAccessToken token;
};
using DeferredGrantFn = OAuthResult<DeferredTokenResponse> (*)(const AsContext& ctx,
                                                               const http::Request& request,
                                                               const Form& form,
                                                               const store::ClientRecord& client);

struct Grant {
  std::string_view type;
  GrantFn run;
  DeferredGrantFn run_deferred = nullptr;  // optional, see DeferredTokenResponse
};

// nullptr when this server does not support the grant type.
const Grant* find_grant(std::string_view grant_type);
// Every supported grant type, for discovery.
std::vector<std::string> supported_grant_types();

OAuthResult<std::string> client_credentials_grant(const AsContext& ctx,
                                                  const http::Request& request, const Form& form,
                                                  const store::ClientRecord& client);
OAuthResult<DeferredTokenResponse> client_credentials_grant_deferred(
    const AsContext& ctx, const http::Request& request, const Form& form,
    const store::ClientRecord& client);
// authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6), grants/authorization_code.cpp.
OAuthResult<std::string> authorization_code_grant(const AsContext& ctx,
                                                  const http::Request& request, const Form& form,
                                                  const store::ClientRecord& client);
// refresh_token (RFC 6749 §6), grants/refresh_token.cpp.
OAuthResult<std::string> refresh_token_grant(const AsContext& ctx, const http::Request& request,
                                             const Form& form, const store::ClientRecord& client);

}  // namespace fapigate::as
