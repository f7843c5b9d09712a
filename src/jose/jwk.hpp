// JSON Web Keys (RFC 7517) for RSA, EC P-256 and OKP Ed25519, public and private; JWK Sets;
// RFC 7638 thumbprints. Parsing is bounded and refuses odd members (wrong types, unknown kty,
// unsupported curve, RSA under 2048 bits).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "jose/jose_errc.hpp"
#include "crypto/key.hpp"
#include "jose/alg.hpp"

namespace fapigate::jose {

struct Jwk {
  crypto::Key key;
  std::string kid;           // may be empty
  std::optional<Alg> alg;    // the JWK's own "alg", if it names an allowed one
  std::string use;           // "sig", "enc" or empty
  std::vector<std::string> x5c;  // base64 DER certificates, if present
};

struct JwksLimits {
  std::size_t max_bytes = 256 * 1024;
  std::size_t max_keys = 100;
};

[[nodiscard]] Result<Jwk> parse_jwk(const boost::json::object& object);
[[nodiscard]] Result<Jwk> parse_jwk(std::string_view json);
// Builds a JWK from a key (kid and alg filled in as given).
Jwk make_jwk(crypto::Key key, std::string kid, std::optional<Alg> alg);
// Serialises; private members only when include_private and the key is private.
boost::json::object to_json(const Jwk& jwk, bool include_private = false);
std::string to_json_string(const Jwk& jwk, bool include_private = false);

// RFC 7638 §3: base64url(SHA-256(canonical JSON of the required public members)).
std::string thumbprint(const Jwk& jwk);

struct Jwks {
  std::vector<Jwk> keys;

  // The key with this kid, or nullptr.
  const Jwk* find(std::string_view kid) const;
};

// Keys this implementation cannot use (e.g. "enc" keys, other curves) are skipped, not fatal;
// a document that is not a JWKS, or has more than max_keys entries, is refused.
[[nodiscard]] Result<Jwks> parse_jwks(std::string_view json, JwksLimits limits = {});
std::string to_json_string(const Jwks& jwks, bool include_private = false);

}  // namespace fapigate::jose
