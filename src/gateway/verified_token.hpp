// What the gateway knows about an access token once its signature and claims have been checked
// (or once its issuer said by introspection that it is active).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace fapigate::gw {

struct VerifiedToken {
  std::string issuer;
  std::string subject;
  std::string client_id;
  std::string jti;
  std::vector<std::string> scopes;
  std::vector<std::string> audiences;  // aud, as a list
  std::string cnf_x5t_s256;  // empty when the token carries no cnf.x5t#S256
  bool has_cnf = false;      // any cnf member at all (an unknown confirmation method still binds)
  std::int64_t expires_at = 0;
  // When set (a JWT whose issuer was asked whether it is revoked), the verified-token cache
  // keeps the token only until then, so that the issuer is asked again; 0: until expires_at.
  std::int64_t cache_until = 0;
  std::int64_t cached_until() const {
    return cache_until > 0 && cache_until < expires_at ? cache_until : expires_at;
  }
  boost::json::object claims;  // every claim, for configured claim headers
  // What the upstream receives in Authorization: the JWT itself, or for an introspected opaque
  // token a JWT (never the opaque token; phantom-token pattern). Empty: the incoming token.
  std::string upstream_jwt;
  // A remembered "active": false introspection answer (cached briefly, never forwarded).
  bool inactive = false;
  // SHA-256 of the incoming token (what the caches are keyed by); empty when not from a token.
  std::string token_hash;
};

}  // namespace fapigate::gw
