// The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636, JARM) after
// validation against the client's registration and FAPI profile (as/client_policy.hpp). It is
// what a pushed authorization request stores (as JSON) and what the authorization endpoint
// completes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "as/as_context.hpp"
#include "as/client_policy.hpp"
#include "as/oauth_error.hpp"
#include "store/store.hpp"

namespace fapigate::as {

// How the response travels back (OAuth 2.0 Multiple Response Types §2.1, JARM §2.3).
enum class ResponseMode { Query, Fragment, Jwt /* query.jwt */, FormPostJwt };

struct AuthorizationRequest {
  std::string client_id;
  std::string response_type;   // "code" or "code id_token"
  ResponseMode response_mode = ResponseMode::Query;
  std::string redirect_uri;
  std::vector<std::string> scopes;
  std::string state;           // may be empty (not sent)
  bool has_state = false;
  std::string nonce;           // may be empty
  std::string code_challenge;  // S256
  bool signed_request = false; // came in a verified request object

  bool openid() const;
  std::string scope() const;  // space-joined
  boost::json::object to_json() const;
  // nullopt for a record that does not decode (it was written by this code, so: corrupt).
  static std::optional<AuthorizationRequest> from_json(const boost::json::object& o);
};

// Parameters as they arrive: a form/query, or the string members of a request object.
using RequestParams = std::map<std::string, std::string>;

// A request object's claims as parameters: strings as they are; numbers as their decimal
// text; anything else (objects such as "claims") serialised as JSON.
RequestParams params_of_claims(const boost::json::object& claims);

// Bounds on what a request may carry (F2-25: nonces of 64 characters must pass; longer ones
// are refused rather than truncated, F2-26: states over 1000 characters pass).
inline constexpr std::size_t kMaxNonceBytes = 512;
inline constexpr std::size_t kMaxStateBytes = 4096;

// The checks of a new authorization request, in order: redirect_uri (check_redirect_uri),
// response_type for the client and profile (unsupported_response_type; FAPI 2.0 SP §5.3.2.2-1,
// FAPI 1.0 Part 2 §5.2.2-2), response_mode, scope (required, a subset of the client's plus
// "openid": invalid_scope), state and nonce (FAPI 1.0 Part 1 §5.2.2.2/.3: nonce required with
// openid for fapi1_advanced and for the hybrid response; state required without openid for
// fapi1_advanced), PKCE (check_pkce_challenge). `signed_request` records whether the
// parameters came from a verified request object.
[[nodiscard]] OAuthResult<AuthorizationRequest> validate_authorization_request(
    const store::ClientRecord& client, const ClientPolicy& policy, const RequestParams& params,
    bool signed_request);

}  // namespace fapigate::as
