// What the gateway knows about an access token once its signature and claims have been checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fapigate::gw {

struct VerifiedToken {
  std::string issuer;
  std::string subject;
  std::string client_id;
  std::string jti;
  std::vector<std::string> scopes;
  std::string cnf_x5t_s256;  // empty when the token carries no cnf.x5t#S256
  bool has_cnf = false;      // any cnf member at all (an unknown confirmation method still binds)
  std::int64_t expires_at = 0;
};

}  // namespace fapigate::gw
