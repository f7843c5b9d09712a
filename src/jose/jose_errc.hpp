// Every way a JOSE object can fail, one line each (STYLE.md §4, jwt_verify_lib style).
#pragma once

#include "core/result.hpp"

namespace fapigate::jose {

enum class JoseErrc {
  TooLarge = 1,          // the compact token or JSON exceeds the configured size limit
  Malformed,             // not three base64url segments, or a segment is not base64url
  HeaderNotJson,         // the protected header is not a JSON object
  PayloadNotJson,        // the payload is not a JSON object (JWT)
  AlgMissing,            // the header has no "alg"
  AlgNotAllowed,         // "alg" is none, HMAC, or not in the verifier's allow-list
  AlgKeyMismatch,        // "alg" does not fit the key's type, or the JWK's own "alg" differs
  CritUnsupported,       // a "crit" header the verifier does not understand (RFC 7515 §4.1.11)
  KidNotFound,           // no key with that kid (or no kid and several candidate keys)
  BadSignature,          // the signature does not verify
  TypMismatch,           // "typ" is not the one the caller requires (e.g. at+jwt, RFC 9068)
  JwkInvalid,            // a JWK with missing/odd members or an unusable key
  JwkUnsupported,        // kty/crv outside RSA / EC P-256 / OKP Ed25519
  JwksInvalid,           // a JWKS that is not {"keys":[...]} or has too many keys
  IssuerMismatch,        // "iss" missing or not the expected issuer
  AudienceMismatch,      // "aud" missing or does not contain the expected audience
  Expired,               // "exp" is in the past (beyond the allowed skew)
  ExpMissing,            // "exp" is required and missing or not a number
  NotYetValid,           // "nbf" is in the future (beyond the allowed skew)
  IssuedInFuture,        // "iat" is in the future (beyond the allowed skew)
  ClaimInvalid,          // a registered claim has the wrong JSON type
  EncryptionKeyNotFound, // JWE: no RSA key in the recipient's JWKS for that key-management alg
  EncryptionFailed,      // JWE: the key or content encryption failed (OpenSSL refused)
};
ErrorCode make_error_code(JoseErrc e);

}  // namespace fapigate::jose

template <>
struct boost::system::is_error_code_enum<fapigate::jose::JoseErrc> : std::true_type {};
