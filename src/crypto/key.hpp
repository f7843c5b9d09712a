// Asymmetric keys over OpenSSL 3 EVP_PKEY. A Key is an immutable, shareable handle (the
// EVP_PKEY is reference-counted), parsed once and reused for every signature (ARCHITECTURE.md:
// parse keys once). Thread-safe for concurrent sign/verify.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace fapigate::crypto {

enum class KeyType { Rsa, Ec, Ed25519 };

enum class CryptoErrc {
  InvalidKey = 1,        // PEM/DER/parameters do not form a usable key
  UnsupportedKey,        // a key type or curve outside RSA>=2048 / P-256 / Ed25519
  KeyTooSmall,           // RSA modulus under 2048 bits
  NotPrivate,            // a private-key operation on a public key
  SignFailed,            // OpenSSL refused to sign
  BadSignature,          // the signature does not verify (or is malformed)
  InvalidCertificate,    // X.509 parse failure
  RandomFailed,          // the OS CSPRNG did not deliver
  Internal,              // an OpenSSL call failed unexpectedly
};
ErrorCode make_error_code(CryptoErrc e);

class Key {
public:
  Key() = default;
  // Takes ownership of one reference.
  explicit Key(EVP_PKEY* pkey);

  [[nodiscard]] static Result<Key> generate(KeyType type, int rsa_bits = 2048);
  // PKCS#8 / traditional private keys, or SubjectPublicKeyInfo public keys.
  [[nodiscard]] static Result<Key> from_pem(std::string_view pem);
  [[nodiscard]] static Result<Key> from_public_der(std::string_view spki_der);

  std::string private_pem() const;  // PKCS#8; empty for a public key
  std::string public_pem() const;   // SubjectPublicKeyInfo
  std::string public_der() const;

  bool valid() const { return pkey_ != nullptr; }
  bool is_private() const;
  KeyType type() const;
  int bits() const;
  EVP_PKEY* get() const { return pkey_.get(); }
  // The public half as its own Key.
  Key public_only() const;
  // Same public key (used to match a presented certificate against a registered JWK).
  bool same_public_key(const Key& other) const;

private:
  std::shared_ptr<EVP_PKEY> pkey_;
};

}  // namespace fapigate::crypto

template <>
struct boost::system::is_error_code_enum<fapigate::crypto::CryptoErrc> : std::true_type {};
