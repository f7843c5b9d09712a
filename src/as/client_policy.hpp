// What a registered client may do in the authorization-code flow, read from its stored RFC 7591
// metadata (ClientRecord::metadata_json). One place decides the profile rules, so the PAR,
// authorization, token and registration endpoints cannot disagree about a client.
//
// metadata_json members (RFC 7591 §2 names where one exists):
//   "fapi_profile"                           "fapi2" (default) | "fapi1_advanced"
//   "response_types"                         array; default ["code"] (fapi2) or
//                                            ["code id_token", "code"] (fapi1_advanced)
//   "id_token_signed_response_alg"           OIDC Registration §2
//   "id_token_encrypted_response_alg"        OIDC Registration §2 (RSA-OAEP-256, RSA-OAEP)
//   "id_token_encrypted_response_enc"        OIDC Registration §2 (default A128CBC-HS256)
//   "authorization_signed_response_alg"      JARM §3
//   "request_object_signing_alg"             OIDC Registration §2
//   "require_pushed_authorization_requests"  RFC 9126 §6
//   "refresh_token_rotation"                 fapigate: rotate refresh tokens with reuse detection
#pragma once

#include <string>
#include <vector>

#include "config/model.hpp"
#include "store/store.hpp"

namespace fapigate::as {

enum class FapiProfile { Fapi2, Fapi1Advanced };

struct ClientPolicy {
  FapiProfile profile = FapiProfile::Fapi2;
  std::vector<std::string> response_types;       // never empty after client_policy()
  std::string id_token_signed_response_alg;      // never empty: falls back to the AS alg
  std::string id_token_encrypted_response_alg;   // empty: ID tokens are signed only
  std::string id_token_encrypted_response_enc;   // empty: A128CBC-HS256 when alg is set
  std::string authorization_signed_response_alg; // never empty: falls back to the AS alg
  std::string request_object_signing_alg;        // empty: any allowed alg
  bool require_pushed_authorization_requests = true;  // always true for fapi2
  bool refresh_token_rotation = false;                // always false for fapi2
};

// Missing or malformed members take the defaults above; the profile's hard rules win over
// anything stored (a fapi2 client always needs PAR and never rotates refresh tokens).
[[nodiscard]] ClientPolicy client_policy(const store::ClientRecord& client,
                                         const config::AuthorizationServer& as);

// The metadata_json for a client registered in the configuration file.
[[nodiscard]] std::string client_metadata_json(const config::ClientRegistration& registration);

}  // namespace fapigate::as
