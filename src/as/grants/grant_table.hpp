// Grants are a table, not an if-chain (node-oidc-provider's grants/index.js). A grant runs after
// client authentication and returns the token response body.
#pragma once

#include <string>
#include <string_view>

#include "as/as_context.hpp"
#include "as/checks/client_auth.hpp"
#include "as/oauth_error.hpp"
#include "http/message.hpp"

namespace fapigate::as {

using GrantFn = OAuthResult<std::string> (*)(const AsContext& ctx, const http::Request& request,
                                             const Form& form,
                                             const store::ClientRecord& client);

struct Grant {
  std::string_view type;
  GrantFn run;
};

// nullptr when this server does not support the grant type.
const Grant* find_grant(std::string_view grant_type);
// Every supported grant type, for discovery.
std::vector<std::string> supported_grant_types();

OAuthResult<std::string> client_credentials_grant(const AsContext& ctx,
                                                  const http::Request& request, const Form& form,
                                                  const store::ClientRecord& client);

}  // namespace fapigate::as
