// OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6, §3.3.2.11), signed with the AS's key for the
// client's id_token_signed_response_alg (PS256 by default, ES256 or EdDSA per client). Used by
// the token endpoint (authorization_code and refresh_token grants) and by the authorization
// endpoint for the FAPI 1.0 Advanced hybrid response, where the ID token is a detached
// signature over code and state (c_hash, s_hash; FAPI 1.0 Part 2 §5.2.2.1). A client that
// registered id_token_encrypted_response_alg gets it signed, then encrypted to its key (OIDC
// Core §10.2, FAPI 1.0 Part 2 §5.2.2.1-3 and -6).
#pragma once

#include <cstdint>
#include <string>

#include "as/as_context.hpp"
#include "as/client_policy.hpp"
#include "as/oauth_error.hpp"
#include "store/store.hpp"

namespace fapigate::as {

struct IdTokenParams {
  std::string client_id;     // aud (and azp)
  std::string subject;       // sub
  std::string nonce;         // omitted when empty
  std::string acr;           // omitted when empty
  std::int64_t auth_time = 0;
  std::string alg;           // the client's id_token_signed_response_alg; empty: the AS default
  std::string access_token;  // at_hash over it when not empty
  std::string code;          // c_hash over it when not empty
  std::string state;         // s_hash over it when not empty
  // OIDC Registration §2: the client's id_token_encrypted_response_alg / _enc; no encryption
  // when encryption_alg is empty. The recipient key is looked up in client_jwks_json.
  std::string encryption_alg;
  std::string encryption_enc;
  std::string client_jwks_json;
};

// The parameters every ID token for this client shares: aud, the signing alg and, when it
// registered one, the encryption to its key.
[[nodiscard]] IdTokenParams id_token_params_for(const store::ClientRecord& client,
                                                const ClientPolicy& policy);

// The hashes are the left half of the hash of the ASCII value, with the hash function of the
// JWS alg (SHA-256 for PS256 and ES256, SHA-512 for EdDSA/Ed25519), base64url-encoded.
[[nodiscard]] std::string left_half_hash(std::string_view alg, std::string_view value);

[[nodiscard]] OAuthResult<std::string> issue_id_token(const AsContext& ctx,
                                                      const IdTokenParams& params);

}  // namespace fapigate::as
