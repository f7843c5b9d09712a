// Tokens the gateway signs for an upstream (route upstream_token: gateway): RFC 9068 JWT access
// tokens built from what the gateway verified and cut to that upstream's audience. The upstream
// trusts one key (the gateway's, published at the admin listener's /upstream-jwks) and never
// sees the client's token, opaque or not (the phantom-token pattern). Each (token, audience)
// is signed once and reused until shortly before it expires, so a repeat call costs a lookup,
// not a signature.
#pragma once

#include <memory>
#include <string>

#include "config/model.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "crypto/signature.hpp"
#include "gateway/token_cache.hpp"
#include "gateway/verified_token.hpp"

namespace fapigate::gw {

class UpstreamTokenSigner {
public:
  // Loads the key (PEM, or a private JWK): RSA of at least 2048 bits signs PS256, EC P-256
  // ES256, Ed25519 EdDSA. Errors name what is wrong with the key file.
  [[nodiscard]] static Result<std::shared_ptr<UpstreamTokenSigner>> create(
      const config::UpstreamTokenSigning& settings, std::size_t cache_entries,
      const core::Clock& clock);

  // The JWT for `token` at `audience`. Claims: iss (ours), aud, sub, client_id, scope, iat,
  // exp (min of now + lifetime and the token's exp), a fresh jti, cnf when the token is bound,
  // and token_iss (the issuer that vouched for the incoming token). typ at+jwt.
  [[nodiscard]] Result<std::string> token_for(const VerifiedToken& token,
                                              const std::string& audience);

  // The public key as a JWKS document (what upstreams verify with).
  const std::string& jwks() const { return jwks_; }

  UpstreamTokenSigner(config::UpstreamTokenSigning settings, std::shared_ptr<const crypto::Signer> signer,
                      std::string kid, std::string jwks, std::size_t cache_entries,
                      const core::Clock& clock);

private:
  config::UpstreamTokenSigning settings_;
  std::shared_ptr<const crypto::Signer> signer_;
  std::string kid_;
  std::string jwks_;
  TokenCache cache_;  // by incoming token hash + audience
  const core::Clock& clock_;
};

}  // namespace fapigate::gw
