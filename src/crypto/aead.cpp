#include "crypto/aead.hpp"

#include <climits>
#include <memory>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "crypto/digest.hpp"

namespace fapigate::crypto {
namespace {

class AeadCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "fapigate.aead"; }
  std::string message(int ev) const override {
    switch (static_cast<AeadErrc>(ev)) {
      case AeadErrc::InvalidKey: return "key-encryption key must be 32 bytes";
      case AeadErrc::TooLarge: return "message too large to seal";
      case AeadErrc::Malformed: return "sealed value is malformed";
      case AeadErrc::AuthenticationFailed:
        return "decryption failed (wrong key, or the sealed value was altered)";
      case AeadErrc::Internal: return "internal AEAD error";
    }
    return "unknown AEAD error";
  }
};

using CipherCtxPtr =
    std::unique_ptr<EVP_CIPHER_CTX, decltype([](EVP_CIPHER_CTX* c) { EVP_CIPHER_CTX_free(c); })>;
using CipherPtr = std::unique_ptr<EVP_CIPHER, decltype([](EVP_CIPHER* c) { EVP_CIPHER_free(c); })>;

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

ErrorCode internal() {
  ERR_clear_error();
  return make_error_code(AeadErrc::Internal);
}

// Fetched once per call: cheap next to the few seals/opens a process does at start.
CipherPtr aes_256_gcm() { return CipherPtr(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr)); }

// Sets cipher, key and nonce on a fresh context (encrypt or decrypt).
CipherCtxPtr start(const AeadKey& key, std::string_view nonce, int encrypt) {
  CipherPtr cipher = aes_256_gcm();
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!cipher || !ctx ||
      EVP_CipherInit_ex2(ctx.get(), cipher.get(), nullptr, nullptr, encrypt, nullptr) != 1) {
    return nullptr;
  }
  // 12 bytes is GCM's default IV length; set it explicitly so a default change cannot bite.
  std::size_t ivlen = kAeadNonceBytes;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_CIPHER_CTX_set_params(ctx.get(), params) != 1 ||
      EVP_CipherInit_ex2(ctx.get(), nullptr, key.data(), bytes(nonce), encrypt, nullptr) != 1) {
    return nullptr;
  }
  return ctx;
}

bool add_aad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
  int outl = 0;
  return aad.empty() ||
         EVP_CipherUpdate(ctx, nullptr, &outl, bytes(aad), static_cast<int>(aad.size())) == 1;
}

}  // namespace

ErrorCode make_error_code(AeadErrc e) {
  static const AeadCategory category;
  return ErrorCode(static_cast<int>(e), category);
}

Result<AeadKey> AeadKey::from_bytes(std::string_view raw) {
  if (raw.size() != kAeadKeyBytes) {
    return make_error_code(AeadErrc::InvalidKey);
  }
  AeadKey k;
  std::copy(raw.begin(), raw.end(), k.bytes_.begin());
  return k;
}

AeadKey AeadKey::generate() {
  std::string raw = random_bytes(kAeadKeyBytes);  // aborts rather than return weak bytes
  AeadKey k;
  std::copy(raw.begin(), raw.end(), k.bytes_.begin());
  OPENSSL_cleanse(raw.data(), raw.size());
  return k;
}

AeadKey::~AeadKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

Result<std::string> seal(const AeadKey& key, std::string_view plaintext, std::string_view aad) {
  if (plaintext.size() > kAeadMaxPlaintextBytes || aad.size() > kAeadMaxPlaintextBytes) {
    return make_error_code(AeadErrc::TooLarge);
  }
  // SP 800-38D §8.2.2: random 96-bit IVs are safe for far more than 2^32 messages under one
  // key than a key store will ever hold.
  std::string out = random_bytes(kAeadNonceBytes);
  CipherCtxPtr ctx = start(key, out, 1);
  if (!ctx || !add_aad(ctx.get(), aad)) {
    return internal();
  }
  out.resize(kAeadNonceBytes + plaintext.size() + kAeadTagBytes);
  unsigned char* ct = bytes(out) + kAeadNonceBytes;
  int len = 0;
  int fin = 0;
  if ((!plaintext.empty() && EVP_EncryptUpdate(ctx.get(), ct, &len, bytes(plaintext),
                                               static_cast<int>(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &fin) != 1 ||
      static_cast<std::size_t>(len + fin) != plaintext.size()) {
    return internal();
  }
  unsigned char* tag = ct + plaintext.size();
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kAeadTagBytes),
                          tag) != 1) {
    return internal();
  }
  return out;
}

Result<std::string> open(const AeadKey& key, std::string_view sealed, std::string_view aad) {
  if (sealed.size() < kAeadNonceBytes + kAeadTagBytes ||
      sealed.size() > kAeadNonceBytes + kAeadMaxPlaintextBytes + kAeadTagBytes) {
    return make_error_code(AeadErrc::Malformed);
  }
  if (aad.size() > kAeadMaxPlaintextBytes) {
    return make_error_code(AeadErrc::TooLarge);
  }
  std::string_view nonce = sealed.substr(0, kAeadNonceBytes);
  std::string_view ct = sealed.substr(kAeadNonceBytes,
                                      sealed.size() - kAeadNonceBytes - kAeadTagBytes);
  // The tag is copied: EVP_CTRL_AEAD_SET_TAG takes a non-const pointer.
  std::string tag(sealed.substr(sealed.size() - kAeadTagBytes));
  CipherCtxPtr ctx = start(key, nonce, 0);
  if (!ctx || !add_aad(ctx.get(), aad)) {
    return internal();
  }
  std::string plain(ct.size(), '\0');
  int len = 0;
  if (!ct.empty() &&
      EVP_DecryptUpdate(ctx.get(), bytes(plain), &len, bytes(ct), static_cast<int>(ct.size())) !=
          1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return internal();
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kAeadTagBytes),
                          tag.data()) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return internal();
  }
  int fin = 0;
  // The tag is checked here, in constant time by OpenSSL; on failure the decrypted bytes are
  // unauthenticated and are wiped, never returned.
  if (EVP_DecryptFinal_ex(ctx.get(), bytes(plain) + len, &fin) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    ERR_clear_error();
    return make_error_code(AeadErrc::AuthenticationFailed);
  }
  return plain;
}

}  // namespace fapigate::crypto
