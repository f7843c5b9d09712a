// Opening fapigate's JWEs in tests, as the client that holds the private key would. fapigate
// itself never decrypts; this test-side reader unwraps the CEK with OpenSSL (RSAES-OAEP), runs
// the cipher backwards with OpenSSL, and accepts the plaintext only if encrypting it again
// under the same CEK, IV and header gives the same ciphertext and tag, so a wrong key, a
// changed header or a flipped byte anywhere is refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/json/parse.hpp>

#include "core/base64url.hpp"
#include "core/strings.hpp"
#include "crypto/key.hpp"
#include "crypto/ossl_ptr.hpp"
#include "jose/jwe.hpp"

namespace fapigate::jose::test {

// RSAES-OAEP decryption of a JWE Encrypted Key with the recipient's private key; md is the
// OAEP and MGF1 hash ("SHA256" for RSA-OAEP-256, "SHA1" for RSA-OAEP).
inline std::optional<std::string> unwrap_key(const crypto::Key& key, std::string_view wrapped,
                                             const char* md) {
  crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(wrapped.data());
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), md, nullptr) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), md, nullptr) != 1 ||
      EVP_PKEY_decrypt(ctx.get(), nullptr, &len, in, wrapped.size()) != 1) {
    return std::nullopt;
  }
  std::string out(len, '\0');
  if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, in,
                       wrapped.size()) != 1) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

inline std::vector<std::string> jwe_parts(std::string_view compact) {
  std::vector<std::string> out;
  core::for_each_part(compact, '.', [&](std::string_view p) {
    out.emplace_back(p);
    return true;
  });
  return out;
}

struct OpenedJwe {
  boost::json::object header;
  std::string plaintext;
};

// The protected header and plaintext of a compact JWE from fapigate, or nullopt.
inline std::optional<OpenedJwe> open_jwe(std::string_view compact, const crypto::Key& key) {
  auto p = jwe_parts(compact);
  if (p.size() != 5) {
    return std::nullopt;
  }
  auto header_text = core::base64url_decode(p[0]);
  auto wrapped = core::base64url_decode(p[1]);
  auto iv = core::base64url_decode(p[2]);
  auto ciphertext = core::base64url_decode(p[3]);
  auto tag = core::base64url_decode(p[4]);
  if (!header_text || !wrapped || !iv || !ciphertext || !tag) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto header_value = boost::json::parse(*header_text, ec);
  if (ec || !header_value.is_object()) {
    return std::nullopt;
  }
  OpenedJwe out;
  out.header = header_value.as_object();
  const auto* alg_name = out.header.if_contains("alg");
  const auto* enc_name = out.header.if_contains("enc");
  auto alg = alg_name && alg_name->is_string() ? parse_key_management_alg(alg_name->get_string())
                                               : std::nullopt;
  auto enc = enc_name && enc_name->is_string() ? parse_content_encryption(enc_name->get_string())
                                               : std::nullopt;
  if (!alg || !enc) {
    return std::nullopt;
  }
  auto cek = unwrap_key(key, *wrapped, *alg == KeyManagementAlg::RsaOaep256 ? "SHA256" : "SHA1");
  if (!cek || cek->size() != cek_bytes(*enc) || iv->size() != iv_bytes(*enc)) {
    return std::nullopt;
  }
  // The cipher backwards: AES-CBC with the second half of the CEK (RFC 7518 §5.2.2.2), or
  // AES-GCM's counter mode without its tag check (the re-encryption below checks the tag).
  const bool gcm = *enc == ContentEncryption::A128Gcm || *enc == ContentEncryption::A256Gcm;
  const char* cipher_name = *enc == ContentEncryption::A128CbcHs256   ? "AES-128-CBC"
                            : *enc == ContentEncryption::A256CbcHs512 ? "AES-256-CBC"
                            : *enc == ContentEncryption::A128Gcm      ? "AES-128-GCM"
                                                                      : "AES-256-GCM";
  std::string_view key_bytes = *cek;
  if (!gcm) {
    key_bytes = key_bytes.substr(key_bytes.size() / 2);
  }
  std::unique_ptr<EVP_CIPHER, crypto::OsslDeleter<&EVP_CIPHER_free>> cipher(
      EVP_CIPHER_fetch(nullptr, cipher_name, nullptr));
  std::unique_ptr<EVP_CIPHER_CTX, crypto::OsslDeleter<&EVP_CIPHER_CTX_free>> ctx(
      EVP_CIPHER_CTX_new());
  std::string plain(ciphertext->size() + 16, '\0');
  int len = 0;
  int final_len = 0;
  const auto* kb = reinterpret_cast<const unsigned char*>(key_bytes.data());
  const auto* ivb = reinterpret_cast<const unsigned char*>(iv->data());
  if (!cipher || !ctx || EVP_DecryptInit_ex2(ctx.get(), cipher.get(), kb, ivb, nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                        reinterpret_cast<const unsigned char*>(ciphertext->data()),
                        static_cast<int>(ciphertext->size())) != 1) {
    return std::nullopt;
  }
  if (!gcm && EVP_DecryptFinal_ex(ctx.get(),
                                  reinterpret_cast<unsigned char*>(plain.data()) + len,
                                  &final_len) != 1) {
    return std::nullopt;
  }
  plain.resize(static_cast<std::size_t>(len + final_len));
  auto again = encrypt_content(*enc, *cek, *iv, p[0], plain);
  if (!again || again->ciphertext != *ciphertext || again->tag != *tag) {
    return std::nullopt;
  }
  out.plaintext = std::move(plain);
  return out;
}

}  // namespace fapigate::jose::test
