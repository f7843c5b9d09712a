// Every reason the gateway refuses a request, one line each. gw_errc.cpp maps each to its HTTP
// status and RFC 6750 §3 error code in one table (Envoy's doneWithStatus, STYLE.md §4.3).
#pragma once

#include <cstddef>
#include <string_view>

#include "core/result.hpp"

namespace fapigate::gw {

enum class GwErrc {
  TokenMissing = 1,      // no Authorization header with a Bearer token (RFC 6750 §3: bare challenge)
  TokenInQuery,          // access_token in the query string or body (FAPI 1.0 Part 1 §6.2.1-3)
  AuthorizationInvalid,  // several Authorization headers, or a malformed Bearer credential
  TokenMalformed,        // not a compact JWS, bad base64url or JSON
  AlgNotAllowed,         // none, HMAC or an algorithm outside PS256/ES256/EdDSA
  TypMismatch,           // typ is not at+jwt (RFC 9068 §4: an ID token is not an access token)
  IssuerUnknown,         // iss missing or not a configured (or route-allowed) issuer
  KeysUnavailable,       // the issuer's JWKS could not be fetched and none is cached
  KidNotFound,           // no key with that kid, even after a (rate-limited) refetch
  BadSignature,          // the signature does not verify
  AudienceMismatch,      // aud does not name this gateway
  Expired,               // exp in the past
  NotYetValid,           // nbf or iat in the future
  ClaimInvalid,          // a registered claim has the wrong type, or exp is missing
  CnfMissing,            // route requires sender constraint and the token has no cnf
  CertificateMissing,    // the token is bound but no client certificate was presented
  CnfMismatch,           // cnf.x5t#S256 differs from the presented certificate (RFC 8705 §3)
  InsufficientScope,     // a required scope is missing (RFC 6750 §3.1: 403)
  NoRoute,               // no route matches the path
  MethodNotAllowed,      // a route matches the path but not the method
  PathInvalid,           // dot segments or encoded slashes in the path
  UpstreamUnavailable,   // the upstream refused or reset the connection
  UpstreamTimeout,       // the upstream did not answer in time
  MisdirectedRequest,    // Host names another host than the TLS SNI (RFC 9110 §15.5.20: 421)
  ClientCertInvalid,     // a trusted proxy's RFC 9440 Client-Cert header is malformed
  TokenInactive,         // introspection says the token is not active (RFC 7662 §2.2): an
                         // opaque token, or a JWT revoked at an issuer with jwt_revocation_check
  IntrospectionUnavailable,  // the issuer's introspection endpoint could not be asked
};
// One past the last GwErrc value (metrics pre-register a series per value); keep it in step.
inline constexpr std::size_t kGwErrcEnd =
    static_cast<std::size_t>(GwErrc::IntrospectionUnavailable) + 1;
ErrorCode make_error_code(GwErrc e);

struct Refusal {
  int status;
  std::string_view oauth_error;  // RFC 6750 error attribute, empty for a bare challenge / none
  std::string_view description;  // client-visible
  std::string_view label;        // logs and metrics
};
const Refusal& refusal_for(GwErrc e);

}  // namespace fapigate::gw

template <>
struct boost::system::is_error_code_enum<fapigate::gw::GwErrc> : std::true_type {};
