// Authenticated encryption with AES-256-GCM (NIST SP 800-38D) through OpenSSL 3 EVP, for
// secrets at rest (the AS's signing keys under a key-encryption key). seal() draws a fresh
// 96-bit nonce from the CSPRNG for every call and returns nonce || ciphertext || 128-bit tag;
// open() gives the plaintext back only when key, nonce, ciphertext, tag and AAD are all
// unchanged. Stateless and thread-safe; nothing here logs.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace fapigate::crypto {

inline constexpr std::size_t kAeadKeyBytes = 32;    // AES-256
inline constexpr std::size_t kAeadNonceBytes = 12;  // SP 800-38D §8.2: 96-bit IVs
inline constexpr std::size_t kAeadTagBytes = 16;    // full-length tag, never truncated
// Upper bound for one sealed message: far above a 16384-bit RSA PKCS#8 PEM (~13 KB), and it
// keeps every length inside OpenSSL's int.
inline constexpr std::size_t kAeadMaxPlaintextBytes = 1024 * 1024;

enum class AeadErrc {
  InvalidKey = 1,        // a key that is not exactly 32 bytes
  TooLarge,              // plaintext or AAD above kAeadMaxPlaintextBytes
  Malformed,             // a sealed box shorter than nonce + tag (or oversized)
  AuthenticationFailed,  // wrong key, or nonce / ciphertext / tag / AAD changed
  Internal,              // an OpenSSL call failed unexpectedly
};
ErrorCode make_error_code(AeadErrc e);

// A 256-bit symmetric key. The bytes are wiped (OPENSSL_cleanse) when it is destroyed.
class AeadKey {
public:
  // Exactly kAeadKeyBytes raw bytes; anything else is InvalidKey.
  [[nodiscard]] static Result<AeadKey> from_bytes(std::string_view raw);
  // Fresh key from the CSPRNG (tests, key generation tooling).
  [[nodiscard]] static AeadKey generate();

  AeadKey(const AeadKey&) = default;
  AeadKey& operator=(const AeadKey&) = default;
  ~AeadKey();

  const unsigned char* data() const { return bytes_.data(); }

private:
  AeadKey() = default;
  std::array<unsigned char, kAeadKeyBytes> bytes_{};
};

// nonce (12) || ciphertext (|plaintext|) || tag (16). `aad` is authenticated, not stored: the
// caller passes the same bytes to open() (e.g. the record's identity, so sealed values cannot
// be moved between records).
[[nodiscard]] Result<std::string> seal(const AeadKey& key, std::string_view plaintext,
                                       std::string_view aad);
// The plaintext, or AuthenticationFailed (no partial plaintext is ever returned).
[[nodiscard]] Result<std::string> open(const AeadKey& key, std::string_view sealed,
                                       std::string_view aad);

}  // namespace fapigate::crypto

template <>
struct boost::system::is_error_code_enum<fapigate::crypto::AeadErrc> : std::true_type {};
