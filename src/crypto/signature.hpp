// Signing and verification for the three JOSE algorithms fapigate allows (FAPI 2.0 SP §5.4.1,
// FAPI 1.0 Part 2 §8.6): PS256 (RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32), ES256 (P-256,
// SHA-256, JOSE r||s format of RFC 7518 §3.4, not DER) and EdDSA (Ed25519, RFC 8037).
// The algorithm is chosen by the caller, never derived from the key alone.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "crypto/key.hpp"

namespace fapigate::crypto {

enum class SignatureAlg { PS256, ES256, EdDSA };

// Whether `key` is of the type the algorithm needs (RSA>=2048 / EC P-256 / Ed25519).
bool key_fits(SignatureAlg alg, const Key& key);

[[nodiscard]] Result<std::string> sign(SignatureAlg alg, const Key& private_key,
                                       std::string_view data);
// false for a bad signature, a malformed signature or a key that does not fit the algorithm.
bool verify(SignatureAlg alg, const Key& public_key, std::string_view data,
            std::string_view signature);

// A verification context prepared once per key and algorithm (digest fetched, padding set),
// reused for every verification; this is what keeps whole-JWT verification near the raw
// OpenSSL rate. Thread-safe: verify() is const and copies the prepared state per call.
class Verifier {
public:
  [[nodiscard]] static Result<std::shared_ptr<const Verifier>> create(SignatureAlg alg,
                                                                      const Key& public_key);
  virtual ~Verifier() = default;
  virtual bool verify(std::string_view data, std::string_view signature) const = 0;
  virtual SignatureAlg alg() const = 0;
};

// The same for signing with a private key.
class Signer {
public:
  [[nodiscard]] static Result<std::shared_ptr<const Signer>> create(SignatureAlg alg,
                                                                    const Key& private_key);
  virtual ~Signer() = default;
  [[nodiscard]] virtual Result<std::string> sign(std::string_view data) const = 0;
  virtual SignatureAlg alg() const = 0;
};

}  // namespace fapigate::crypto
