// Access tokens in the format their audiences' resource servers expect (config
// access_token_format / resources[]): RFC 9068 JWTs signed by the AS's current key, typ
// "at+jwt", bound to the client's certificate with cnf.x5t#S256 (RFC 8705 §3.1); or opaque
// reference tokens (32 CSPRNG bytes, base64url) whose claims live only in the store. A token is
// recorded in the store by its SHA-256 before the client sees it, never stored or logged in
// clear; the one exception is a self-contained JWT (AccessTokenParams::self_contained), which
// introspection and revocation know from its signed claims instead (issued_tokens.hpp).
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
  // A token of no grant (client_credentials): nothing is revoked together with it, so as a JWT
  // it needs no store record unless record_client_credentials_tokens asks for one.
  bool self_contained = false;
};

struct IssuedAccessToken {
  config::AccessTokenFormat format = config::AccessTokenFormat::Jwt;
  std::string token;
  std::string jti;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
  std::string scope;  // space-joined
};

// Bytes of CSPRNG output in an opaque access token (256 bits: unguessable, RFC 6749 §10.10).
inline constexpr std::size_t kOpaqueTokenBytes = 32;

[[nodiscard]] OAuthResult<IssuedAccessToken> issue_access_token(const AsContext& ctx,
                                                                const AccessTokenParams& params);

// issue_access_token in two halves, for a caller that stores the record without blocking its
// thread (store::TokenStore::put_token_async, group commit): the token signed (or drawn) with
// its store record, not yet stored. When store_record is set, the token must reach the client
// only after the record is durable; then call log_token_issued.
struct PreparedAccessToken {
  IssuedAccessToken issued;
  store::TokenRecord record;
  bool store_record = true;  // false: a self-contained JWT, ready for the client as it is
};
[[nodiscard]] OAuthResult<PreparedAccessToken> prepare_access_token(
    const AsContext& ctx, const AccessTokenParams& params);
void log_token_issued(const PreparedAccessToken& token);

}  // namespace fapigate::as
