// RFC 9068 JWT access tokens: signed by the AS's current key, typ "at+jwt", bound to the
// client's certificate with cnf.x5t#S256 (RFC 8705 §3.1), and recorded in the store by hash
// before the client sees them (so introspection and revocation know every issued token).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "as/as_context.hpp"
#include "as/oauth_error.hpp"

namespace fapigate::as {

struct AccessTokenParams {
  std::string client_id;
  std::string subject;
  std::vector<std::string> scopes;
  std::vector<std::string> audiences;
  std::string cnf_x5t_s256;  // empty: not sender-constrained
  std::string grant_id;
};

struct IssuedAccessToken {
  std::string token;
  std::string jti;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
  std::string scope;  // space-joined
};

[[nodiscard]] OAuthResult<IssuedAccessToken> issue_access_token(const AsContext& ctx,
                                                                const AccessTokenParams& params);

}  // namespace fapigate::as
