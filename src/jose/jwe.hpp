// JSON Web Encryption (RFC 7516), compact serialisation, the sending side: fapigate encrypts ID
// tokens to clients that registered id_token_encrypted_response_alg (OIDC Core §10.2, OIDC
// Registration §2; FAPI 1.0 Part 2 §5.2.2.1-3 and -6: "should support signed and encrypted ID
// Tokens", for sensitive PII in the front channel). It never decrypts anything it receives.
//
// Key management is RSA-OAEP-256 or RSA-OAEP (RFC 7518 §4.3) to an RSA key of the recipient's
// JWKS; RSA1_5 is not offered (FAPI 1.0 Part 2 §8.6.1, FAPI 2.0 SP §5.4.1-1). Content encryption
// is A128CBC-HS256 (the OIDC default when only the alg is registered), A256CBC-HS512 (RFC 7518
// §5.2), A128GCM or A256GCM (§5.3). Every primitive is OpenSSL 3 EVP.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "crypto/key.hpp"

namespace fapigate::jose {

enum class KeyManagementAlg { RsaOaep256, RsaOaep };
enum class ContentEncryption { A128CbcHs256, A256CbcHs512, A128Gcm, A256Gcm };

std::optional<KeyManagementAlg> parse_key_management_alg(std::string_view name);
std::string_view key_management_alg_name(KeyManagementAlg alg);
std::optional<ContentEncryption> parse_content_encryption(std::string_view name);
std::string_view content_encryption_name(ContentEncryption enc);

// What discovery advertises (id_token_encryption_{alg,enc}_values_supported), preferred first.
inline const std::vector<KeyManagementAlg> kKeyManagementAlgs{KeyManagementAlg::RsaOaep256,
                                                              KeyManagementAlg::RsaOaep};
inline const std::vector<ContentEncryption> kContentEncryptions{
    ContentEncryption::A128CbcHs256, ContentEncryption::A256CbcHs512, ContentEncryption::A128Gcm,
    ContentEncryption::A256Gcm};

// The recipient's public key to encrypt to.
struct EncryptionJwk {
  crypto::Key key;
  std::string kid;  // may be empty; echoed in the JWE header when not
};

// The first key of a JWK Set (a client's registered jwks) that `alg` may encrypt to: kty RSA
// (at least 2048 bits, parse_jwk's bounds), "use" absent or "enc", "alg" absent or `alg`,
// "key_ops" absent or holding "wrapKey" or "encrypt" (RFC 7517 §4.2-4.4), public only.
// EncryptionKeyNotFound when there is none; JwksInvalid when the text is not a JWK Set.
[[nodiscard]] Result<EncryptionJwk> find_encryption_key(std::string_view jwks_json,
                                                        KeyManagementAlg alg);

struct JweParams {
  KeyManagementAlg alg = KeyManagementAlg::RsaOaep256;
  ContentEncryption enc = ContentEncryption::A128CbcHs256;
  std::string kid;  // omitted when empty
  std::string cty;  // omitted when empty; "JWT" for a nested (signed, then encrypted) JWT
};

// BASE64URL(header) . BASE64URL(RSA-OAEP(CEK)) . BASE64URL(IV) . BASE64URL(ciphertext) .
// BASE64URL(tag), with a fresh CEK and IV from the OS CSPRNG for every call (RFC 7516 §5.1).
[[nodiscard]] Result<std::string> encrypt_compact(std::string_view plaintext,
                                                  const crypto::Key& recipient,
                                                  const JweParams& params);

// The content encryption step alone (RFC 7518 §5.2.2.1 and §5.3), for known-answer tests:
// `cek` and `iv` of the sizes below, `aad` the ASCII of the encoded protected header.
struct ContentCiphertext {
  std::string ciphertext;
  std::string tag;
};
std::size_t cek_bytes(ContentEncryption enc);
std::size_t iv_bytes(ContentEncryption enc);
[[nodiscard]] Result<ContentCiphertext> encrypt_content(ContentEncryption enc,
                                                        std::string_view cek,
                                                        std::string_view iv, std::string_view aad,
                                                        std::string_view plaintext);

}  // namespace fapigate::jose
