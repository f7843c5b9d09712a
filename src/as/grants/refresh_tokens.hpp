// What the authorization_code and refresh_token grants share: refresh tokens (RFC 6749 §1.5,
// §6) and the token response they both answer with (§5.1). Refresh tokens are opaque, 256 bits
// from the CSPRNG (FAPI 1.0 Part 1 §5.2.2-16), stored only by SHA-256 as TokenRecord kind
// "refresh_token" with the grant_id they continue, bound to the client and to the certificate
// it presented (cnf_x5t_s256).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "as/as_context.hpp"
#include "as/oauth_error.hpp"
#include "as/token_issuer.hpp"
#include "store/store.hpp"

namespace fapigate::as {

inline constexpr std::string_view kRefreshTokenKind = "refresh_token";

struct RefreshTokenParams {
  std::string client_id;
  std::string subject;
  std::string scope;     // space-joined: what the refresh token may be exchanged for
  std::string audience;  // space-joined audiences of the access tokens it yields
  std::string cnf_x5t_s256;
  std::string grant_id;
};

// Draws, stores (durably) and returns a new refresh token living refresh_token_lifetime.
[[nodiscard]] OAuthResult<std::string> issue_refresh_token(const AsContext& ctx,
                                                           const RefreshTokenParams& params);

// Called after a grant's tokens are written: if the grant was revoked meanwhile (a code reuse,
// a refresh-token reuse, a revocation or consent withdrawal racing this issuance), revokes the
// grant again, which now covers the new tokens, and returns the error to answer with.
[[nodiscard]] std::optional<OAuthError> refuse_if_grant_revoked(const AsContext& ctx,
                                                                const std::string& grant_id);

// RFC 6749 §5.1 (+ OIDC Core §3.1.3.3 id_token): a JSON body; refresh_token and id_token are
// left out when empty.
[[nodiscard]] std::string token_response_body(const IssuedAccessToken& access,
                                              const std::string& refresh_token,
                                              const std::string& id_token);

}  // namespace fapigate::as
