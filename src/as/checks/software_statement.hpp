// Software statements (RFC 7591 §2.3, §3.1.1), Open Banking style: a JWS a directory signs
// about a piece of client software, whose claims take precedence over the plain metadata of
// the registration request. Pure: time is a parameter, the trust is built once at start.
//
//   invalid_software_statement     not a JWS, alg other than PS256/ES256, bad signature, iss
//                                  not the directory's, expired, iat missing/future/too old
//   unapproved_software_statement  well formed, but signed by no key of the trusted directory
//                                  (another directory, or a kid not in its JWKS)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "as/oauth_error.hpp"
#include "jose/jws.hpp"

namespace fapigate::as {

struct SoftwareStatementTrust {
  std::shared_ptr<const jose::VerifierSet> keys;  // the directory's public keys
  std::string issuer;                             // the directory's iss
  std::int64_t max_age = 86400;                   // now - iat at most this
  std::int64_t skew = 30;                         // for exp and a future iat
};

// The statement's claims once verified, without the JWT registered claims (iss, sub, aud, exp,
// nbf, iat, jti), which describe the statement rather than the client.
[[nodiscard]] OAuthResult<boost::json::object> verify_software_statement(
    std::string_view statement, const SoftwareStatementTrust& trust, std::int64_t now);

// RFC 7591 §2.3: the statement's claims replace members of the same name in `metadata`.
// Open Banking's software_redirect_uris bounds the redirect URIs: every requested one must be
// among them (invalid_redirect_uri otherwise), and without any, they are the default.
[[nodiscard]] OAuthResult<boost::json::object> apply_software_statement(
    boost::json::object metadata, const boost::json::object& claims);

}  // namespace fapigate::as
