// Client authentication at every AS endpoint that takes one (token, introspection, revocation,
// PAR): exactly the one method the client registered (RFC 6749 §2.3; FAPI 2.0 SP §5.3.2.1-6,
// FAPI 1.0 Advanced §5.2.2-14), never a mix:
//   tls_client_auth              RFC 8705 §2.1: a certificate that chained to the mTLS
//                                listener's CA and matches the registered subject DN or SAN;
//   self_signed_tls_client_auth  RFC 8705 §2.2: a certificate, chain not checked, that is one
//                                registered in the client's JWKS (x5c), or whose public key is;
//   private_key_jwt              RFC 7523 §2.2/§3, OIDC Core §9: a client_assertion signed with a
//                                registered key, its jti used once (remembered in the store).
// Every refusal is invalid_client (401, RFC 6749 §5.2); a store failure is server_error.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "as/as_context.hpp"
#include "as/checks/client_assertion.hpp"
#include "as/oauth_error.hpp"
#include "http/message.hpp"
#include "store/store.hpp"

namespace fapigate::as {

using Form = std::map<std::string, std::string>;

// The methods above, for discovery's *_endpoint_auth_methods_supported.
const std::vector<std::string>& supported_client_auth_methods();

[[nodiscard]] OAuthResult<store::ClientRecord> authenticate_client(const AsContext& ctx,
                                                                   const http::Request& request,
                                                                   const Form& form);

// Without the AS context (no clock, issuer or replay store) private_key_jwt cannot be checked:
// such clients, and any client_assertion, are refused. Kept for callers not yet moved to the
// overload above.
[[nodiscard]] OAuthResult<store::ClientRecord> authenticate_client(const http::Request& request,
                                                                   const Form& form,
                                                                   store::ClientStore& clients);

// The private_key_jwt policy for `client`'s request to `request.path`: the accepted "aud"
// values, the time from ctx.clock. A FAPI 2.0 client gets the issuer only, as a string
// (FAPI 2.0 SP §5.3.2.1-8), whatever the configuration; a FAPI 1.0 Advanced client what
// authorization_server.client_assertion_audience allows.
AssertionPolicy assertion_policy(const AsContext& ctx, const http::Request& request,
                                 const store::ClientRecord& client);

// RFC 8705 §2.1.2: exactly the registered field is compared (subject DN, or one SAN type).
bool certificate_matches_client(const http::PeerCertificate& cert,
                                const store::ClientRecord& client);

// RFC 8705 §2.2.2: the certificate is the first x5c certificate of a registered key, or (for a
// key without x5c) carries that key. "enc" keys never match.
bool certificate_matches_jwks(const http::PeerCertificate& cert,
                              const store::ClientRecord& client);

}  // namespace fapigate::as
