#include "jose/jwe.hpp"

#include <array>
#include <climits>
#include <cstdint>
#include <memory>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "crypto/digest.hpp"
#include "crypto/ossl_ptr.hpp"
#include "jose/jose_errc.hpp"
#include "jose/jwk.hpp"

namespace fapigate::jose {
namespace {

namespace json = boost::json;

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, crypto::OsslDeleter<&EVP_CIPHER_CTX_free>>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, crypto::OsslDeleter<&EVP_CIPHER_free>>;

// An ID token is a few kilobytes; this only keeps lengths inside OpenSSL's int arguments.
constexpr std::size_t kMaxPlaintextBytes = 1024 * 1024;
constexpr std::size_t kGcmTagBytes = 16;  // RFC 7518 §5.3: a 128-bit tag

ErrorCode failed() { return make_error_code(JoseErrc::EncryptionFailed); }

// Wipes a key held in a std::string when it goes out of scope.
struct Wiped {
  std::string bytes;
  ~Wiped() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

// The AES cipher of each content encryption, fetched once (an implicit fetch per call looks it
// up in the provider store again); fetched EVP_CIPHERs are immutable and shared across threads.
const EVP_CIPHER* cipher_for(ContentEncryption enc) {
  static const CipherPtr aes128cbc(EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr));
  static const CipherPtr aes256cbc(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr));
  static const CipherPtr aes128gcm(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr));
  static const CipherPtr aes256gcm(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
  switch (enc) {
    case ContentEncryption::A128CbcHs256: return aes128cbc.get();
    case ContentEncryption::A256CbcHs512: return aes256cbc.get();
    case ContentEncryption::A128Gcm: return aes128gcm.get();
    case ContentEncryption::A256Gcm: return aes256gcm.get();
  }
  return nullptr;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// RFC 7518 §5.3: AES-GCM with the whole CEK as key, a 96-bit IV and a 128-bit tag.
Result<ContentCiphertext> gcm(const EVP_CIPHER* aes, std::string_view key, std::string_view iv,
                              std::string_view aad, std::string_view plaintext) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  ContentCiphertext out;
  out.ciphertext.resize(plaintext.size());
  out.tag.resize(kGcmTagBytes);
  int len = 0;
  int final_len = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), aes, bytes(key), bytes(iv), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.ciphertext.data()), &len,
                        bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.ciphertext.data()) + len,
                          &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kGcmTagBytes),
                          out.tag.data()) != 1) {
    return failed();
  }
  out.ciphertext.resize(static_cast<std::size_t>(len + final_len));
  return out;
}

// RFC 7518 §5.2.2.1: the CEK is MAC_KEY || ENC_KEY; E = AES-CBC(ENC_KEY, IV, P) with PKCS #7
// padding; T = the first half of HMAC(MAC_KEY, A || IV || E || AL), AL the bit length of A as
// a 64-bit big-endian integer.
Result<ContentCiphertext> cbc_hmac(const EVP_CIPHER* aes, const char* digest,
                                   std::string_view key, std::string_view iv,
                                   std::string_view aad, std::string_view plaintext) {
  const std::size_t half = key.size() / 2;
  const std::string_view mac_key = key.substr(0, half);
  const std::string_view enc_key = key.substr(half);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  ContentCiphertext out;
  out.ciphertext.resize(plaintext.size() + 16);  // PKCS #7 adds 1 to 16 bytes
  int len = 0;
  int final_len = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), aes, bytes(enc_key), bytes(iv), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.ciphertext.data()), &len,
                        bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.ciphertext.data()) + len,
                          &final_len) != 1) {
    return failed();
  }
  out.ciphertext.resize(static_cast<std::size_t>(len + final_len));
  std::string mac_input;
  mac_input.reserve(aad.size() + iv.size() + out.ciphertext.size() + 8);
  mac_input.append(aad).append(iv).append(out.ciphertext);
  const std::uint64_t aad_bits = static_cast<std::uint64_t>(aad.size()) * 8;
  for (int shift = 56; shift >= 0; shift -= 8) {
    mac_input.push_back(static_cast<char>((aad_bits >> shift) & 0xff));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, mac_key.data(), mac_key.size(),
                bytes(mac_input), mac_input.size(), mac.data(), mac.size(), &mac_len) == nullptr ||
      mac_len != 2 * half) {
    return failed();
  }
  out.tag.assign(reinterpret_cast<const char*>(mac.data()), half);
  return out;
}

// RFC 7518 §4.3: RSAES-OAEP; RSA-OAEP-256 with SHA-256 as both the hash and MGF1's hash,
// RSA-OAEP with SHA-1 for both (RFC 8017 §A.2.1's defaults, named explicitly).
Result<std::string> wrap_key(const crypto::Key& recipient, KeyManagementAlg alg,
                             std::string_view cek) {
  const char* md = alg == KeyManagementAlg::RsaOaep256 ? "SHA256" : "SHA1";
  crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, recipient.get(), nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), md, nullptr) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), md, nullptr) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, bytes(cek), cek.size()) != 1) {
    return failed();
  }
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, bytes(cek),
                       cek.size()) != 1) {
    return failed();
  }
  out.resize(len);
  return out;
}

bool may_encrypt(const json::object& key, KeyManagementAlg alg) {
  if (core::get_string(key, "kty") != std::optional<std::string_view>("RSA")) {
    return false;
  }
  if (const auto* use = key.if_contains("use");
      use && (!use->is_string() || use->get_string() != "enc")) {
    return false;
  }
  if (const auto* a = key.if_contains("alg");
      a && (!a->is_string() || a->get_string() != key_management_alg_name(alg))) {
    return false;
  }
  if (const auto* ops = key.if_contains("key_ops")) {
    if (!ops->is_array()) {
      return false;
    }
    bool wraps = false;
    for (const auto& op : ops->get_array()) {
      wraps = wraps || (op.is_string() && (op.get_string() == "wrapKey" ||
                                           op.get_string() == "encrypt"));
    }
    return wraps;
  }
  return true;
}

}  // namespace

std::optional<KeyManagementAlg> parse_key_management_alg(std::string_view name) {
  if (name == "RSA-OAEP-256") return KeyManagementAlg::RsaOaep256;
  if (name == "RSA-OAEP") return KeyManagementAlg::RsaOaep;
  return std::nullopt;
}

std::string_view key_management_alg_name(KeyManagementAlg alg) {
  return alg == KeyManagementAlg::RsaOaep256 ? "RSA-OAEP-256" : "RSA-OAEP";
}

std::optional<ContentEncryption> parse_content_encryption(std::string_view name) {
  for (auto enc : kContentEncryptions) {
    if (name == content_encryption_name(enc)) {
      return enc;
    }
  }
  return std::nullopt;
}

std::string_view content_encryption_name(ContentEncryption enc) {
  switch (enc) {
    case ContentEncryption::A128CbcHs256: return "A128CBC-HS256";
    case ContentEncryption::A256CbcHs512: return "A256CBC-HS512";
    case ContentEncryption::A128Gcm: return "A128GCM";
    case ContentEncryption::A256Gcm: return "A256GCM";
  }
  return "";
}

std::size_t cek_bytes(ContentEncryption enc) {
  switch (enc) {
    case ContentEncryption::A128CbcHs256: return 32;
    case ContentEncryption::A256CbcHs512: return 64;
    case ContentEncryption::A128Gcm: return 16;
    case ContentEncryption::A256Gcm: return 32;
  }
  return 0;
}

std::size_t iv_bytes(ContentEncryption enc) {
  return enc == ContentEncryption::A128Gcm || enc == ContentEncryption::A256Gcm ? 12 : 16;
}

Result<ContentCiphertext> encrypt_content(ContentEncryption enc, std::string_view cek,
                                          std::string_view iv, std::string_view aad,
                                          std::string_view plaintext) {
  if (cek.size() != cek_bytes(enc) || iv.size() != iv_bytes(enc) ||
      plaintext.size() > kMaxPlaintextBytes || aad.size() > kMaxPlaintextBytes) {
    return failed();
  }
  switch (enc) {
    case ContentEncryption::A128CbcHs256:
      return cbc_hmac(cipher_for(enc), "SHA256", cek, iv, aad, plaintext);
    case ContentEncryption::A256CbcHs512:
      return cbc_hmac(cipher_for(enc), "SHA512", cek, iv, aad, plaintext);
    case ContentEncryption::A128Gcm:
      return gcm(cipher_for(enc), cek, iv, aad, plaintext);
    case ContentEncryption::A256Gcm:
      return gcm(cipher_for(enc), cek, iv, aad, plaintext);
  }
  return failed();
}

Result<EncryptionJwk> find_encryption_key(std::string_view jwks_json, KeyManagementAlg alg) {
  // Depth: the set object, "keys", each JWK, its x5c / key_ops array (as parse_jwks).
  auto doc = core::parse_json_object(jwks_json, core::JsonLimits{256 * 1024, 4});
  const json::value* keys = doc ? doc->if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return make_error_code(JoseErrc::JwksInvalid);
  }
  for (const auto& v : keys->get_array()) {
    const json::object* k = v.if_object();
    if (k == nullptr || !may_encrypt(*k, alg)) {
      continue;
    }
    // The key material and its bounds are parse_jwk's; its "alg" names a key-management
    // algorithm, which the signing allow-list would refuse, and was matched above.
    json::object copy = *k;
    copy.erase("alg");
    auto jwk = parse_jwk(copy);
    if (!jwk || jwk->key.type() != crypto::KeyType::Rsa || jwk->key.is_private()) {
      continue;
    }
    return EncryptionJwk{std::move(jwk->key), std::move(jwk->kid)};
  }
  return make_error_code(JoseErrc::EncryptionKeyNotFound);
}

Result<std::string> encrypt_compact(std::string_view plaintext, const crypto::Key& recipient,
                                    const JweParams& params) {
  if (recipient.type() != crypto::KeyType::Rsa || recipient.bits() < 2048) {
    return make_error_code(JoseErrc::AlgKeyMismatch);
  }
  if (plaintext.size() > kMaxPlaintextBytes) {
    return make_error_code(JoseErrc::TooLarge);
  }
  // RFC 7516 §4.1: alg and enc first; members in a fixed order so the header is reproducible.
  std::string header = "{\"alg\":" + core::json_quote(key_management_alg_name(params.alg)) +
                       ",\"enc\":" + core::json_quote(content_encryption_name(params.enc));
  if (!params.kid.empty()) {
    header += ",\"kid\":" + core::json_quote(params.kid);
  }
  if (!params.cty.empty()) {
    header += ",\"cty\":" + core::json_quote(params.cty);
  }
  header += '}';
  const std::string encoded_header = core::base64url_encode(header);
  // RFC 7516 §5.1 steps 2 and 9: a fresh random CEK and IV for every message.
  const Wiped cek{crypto::random_bytes(cek_bytes(params.enc))};
  const std::string iv = crypto::random_bytes(iv_bytes(params.enc));
  auto encrypted_key = wrap_key(recipient, params.alg, cek.bytes);
  if (!encrypted_key) {
    return encrypted_key.error();
  }
  // RFC 7516 §5.1 step 14: the AAD is the ASCII of the encoded protected header.
  auto content = encrypt_content(params.enc, cek.bytes, iv, encoded_header, plaintext);
  if (!content) {
    return content.error();
  }
  std::string out = encoded_header;
  out.append(1, '.').append(core::base64url_encode(*encrypted_key));
  out.append(1, '.').append(core::base64url_encode(iv));
  out.append(1, '.').append(core::base64url_encode(content->ciphertext));
  out.append(1, '.').append(core::base64url_encode(content->tag));
  return out;
}

}  // namespace fapigate::jose
