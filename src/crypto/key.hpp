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
  InvalidArgument,       // a caller-supplied option is malformed (e.g. a SAN that is no DNS name)
};
ErrorCode make_error_code(CryptoErrc e);

class Key {
public:
  Key() = default;
  // Takes ownership of one reference. No size/curve policy is applied here (a certificate may
  // carry any key; sign/verify check key_fits); a key type other than RSA, EC or Ed25519 gives
  // an invalid Key (valid() false).
  explicit Key(EVP_PKEY* pkey);

  [[nodiscard]] static Result<Key> generate(KeyType type, int rsa_bits = 2048);
  // PKCS#8 / traditional private keys, or SubjectPublicKeyInfo public keys.
  [[nodiscard]] static Result<Key> from_pem(std::string_view pem);
  [[nodiscard]] static Result<Key> from_public_der(std::string_view spki_der);
  // RFC 8032 raw Ed25519 key: the 32-byte seed (is_private) or the 32-byte public key
  // (RFC 8037 "d" / "x").
  [[nodiscard]] static Result<Key> from_raw_ed25519(std::string_view bytes, bool is_private);
  // RFC 7518 §6.3 RSA from big-endian unsigned integers (JWK "n", "e", and for a private key
  // "d", "p", "q", "dp", "dq", "qi"; all six or none). Under 2048 bits: KeyTooSmall.
  [[nodiscard]] static Result<Key> from_rsa_components(std::string_view n, std::string_view e,
                                                       std::string_view d = {},
                                                       std::string_view p = {},
                                                       std::string_view q = {},
                                                       std::string_view dp = {},
                                                       std::string_view dq = {},
                                                       std::string_view qi = {});
  // RFC 7518 §6.2 P-256 from 32-byte big-endian coordinates (JWK "x", "y", optional "d").
  // A point off the curve is InvalidKey.
  [[nodiscard]] static Result<Key> from_ec_p256(std::string_view x, std::string_view y,
                                                std::string_view d = {});

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
  // EC: the curve's name as OpenSSL gives it ("prime256v1" for P-256); empty otherwise.
  std::string ec_curve() const;

  // JWK members as big-endian unsigned bytes (RFC 7518 §6). Empty strings when the key is
  // not of that type (or, for private members, not private).
  struct RsaComponents {
    std::string n, e, d, p, q, dp, dq, qi;
  };
  struct EcComponents {
    std::string x, y, d;  // each exactly 32 bytes for P-256
  };
  struct OkpComponents {
    std::string x, d;  // raw Ed25519 public key / seed
  };
  [[nodiscard]] Result<RsaComponents> rsa_components() const;
  [[nodiscard]] Result<EcComponents> ec_components() const;
  [[nodiscard]] Result<OkpComponents> okp_components() const;

private:
  std::shared_ptr<EVP_PKEY> pkey_;
  KeyType type_ = KeyType::Rsa;
  bool private_ = false;
};

}  // namespace fapigate::crypto

template <>
struct boost::system::is_error_code_enum<fapigate::crypto::CryptoErrc> : std::true_type {};
