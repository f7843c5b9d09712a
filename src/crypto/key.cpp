#include "crypto/key.hpp"

#include <cstring>
#include <string>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include "crypto/ossl_ptr.hpp"
#include "crypto/ossl_util.hpp"

namespace fapigate::crypto {

namespace {

class CryptoCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "fapigate.crypto"; }
  std::string message(int ev) const override {
    switch (static_cast<CryptoErrc>(ev)) {
      case CryptoErrc::InvalidKey: return "invalid key";
      case CryptoErrc::UnsupportedKey: return "unsupported key type or curve";
      case CryptoErrc::KeyTooSmall: return "RSA key under 2048 bits";
      case CryptoErrc::NotPrivate: return "private key required";
      case CryptoErrc::SignFailed: return "signing failed";
      case CryptoErrc::BadSignature: return "bad signature";
      case CryptoErrc::InvalidCertificate: return "invalid certificate";
      case CryptoErrc::RandomFailed: return "random generator failed";
      case CryptoErrc::Internal: return "internal crypto error";
      case CryptoErrc::InvalidArgument: return "invalid argument";
    }
    return "unknown crypto error";
  }
};

// Upper bound for PEM input: a 16384-bit RSA key is ~13 KB, a few certificates beside it fit.
constexpr std::size_t kMaxPemBytes = 1024 * 1024;
constexpr std::size_t kMaxDerBytes = 64 * 1024;
constexpr int kMaxRsaBits = 16384;

// Encrypted PEM keys are refused instead of prompting on the terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  if (n <= 0 || data == nullptr) {
    return {};
  }
  return std::string(data, static_cast<std::size_t>(n));
}

// Cleared on free: it may hold a private component.
SecretBnPtr get_bn(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return SecretBnPtr(bn);
}

std::string bn_bytes(const BIGNUM* bn) {
  if (bn == nullptr) {
    return {};
  }
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  if (!out.empty()) {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  return out;
}

std::string bn_bytes_padded(const BIGNUM* bn, int len) {
  std::string out(static_cast<std::size_t>(len), '\0');
  if (bn == nullptr ||
      BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), len) != len) {
    ERR_clear_error();
    return {};
  }
  return out;
}

bool push_bn(OSSL_PARAM_BLD* bld, const char* name, std::string_view bytes,
             std::vector<SecretBnPtr>& keep) {
  SecretBnPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                     static_cast<int>(bytes.size()), nullptr));
  if (!bn || OSSL_PARAM_BLD_push_BN(bld, name, bn.get()) != 1) {
    return false;
  }
  // OSSL_PARAM_BLD keeps a pointer to the BIGNUM until to_param.
  keep.push_back(std::move(bn));
  return true;
}

Result<Key> from_params(const char* type, int selection, const OSSL_PARAM* params) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, selection, const_cast<OSSL_PARAM*>(params)) != 1) {
    ERR_clear_error();
    return CryptoErrc::InvalidKey;
  }
  PkeyPtr pkey(raw);
  // Consistency: the public key is valid (point on the curve, sane modulus), and a private key
  // matches its public half.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  int ok = (selection == EVP_PKEY_KEYPAIR) ? EVP_PKEY_pairwise_check(check.get())
                                           : EVP_PKEY_public_check(check.get());
  if (ok != 1) {
    ERR_clear_error();
    return CryptoErrc::InvalidKey;
  }
  if (auto ec = detail::check_key_policy(pkey.get()); ec) {
    return ec;
  }
  return Key(pkey.release());
}

}  // namespace

ErrorCode make_error_code(CryptoErrc e) {
  static const CryptoCategory category;
  return ErrorCode(static_cast<int>(e), category);
}

namespace detail {

std::string ec_group_name(EVP_PKEY* pkey) {
  char name[80] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
                                     &len) != 1) {
    ERR_clear_error();
    return {};
  }
  return std::string(name, len);
}

bool is_p256(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "EC") != 1) {
    return false;
  }
  std::string group = ec_group_name(pkey);
  return group == "prime256v1" || group == "P-256";
}

ErrorCode check_key_policy(EVP_PKEY* pkey) {
  if (pkey == nullptr) {
    return CryptoErrc::InvalidKey;
  }
  if (EVP_PKEY_is_a(pkey, "RSA") == 1) {
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < 2048) {
      return CryptoErrc::KeyTooSmall;
    }
    if (bits > kMaxRsaBits) {
      return CryptoErrc::UnsupportedKey;
    }
    return {};
  }
  if (EVP_PKEY_is_a(pkey, "EC") == 1) {
    return is_p256(pkey) ? ErrorCode{} : make_error_code(CryptoErrc::UnsupportedKey);
  }
  if (EVP_PKEY_is_a(pkey, "ED25519") == 1) {
    return {};
  }
  return CryptoErrc::UnsupportedKey;
}

}  // namespace detail

Key::Key(EVP_PKEY* pkey) {
  if (pkey == nullptr) {
    return;
  }
  PkeyPtr owned(pkey);
  if (EVP_PKEY_is_a(pkey, "RSA") == 1) {
    type_ = KeyType::Rsa;
    private_ = get_bn(pkey, OSSL_PKEY_PARAM_RSA_D) != nullptr;
  } else if (EVP_PKEY_is_a(pkey, "EC") == 1) {
    type_ = KeyType::Ec;
    private_ = get_bn(pkey, OSSL_PKEY_PARAM_PRIV_KEY) != nullptr;
  } else if (EVP_PKEY_is_a(pkey, "ED25519") == 1) {
    type_ = KeyType::Ed25519;
    std::size_t len = 0;
    private_ = EVP_PKEY_get_raw_private_key(pkey, nullptr, &len) == 1 && len == 32;
  } else {
    return;  // unsupported type: stays invalid
  }
  ERR_clear_error();
  pkey_ = std::shared_ptr<EVP_PKEY>(owned.release(), EVP_PKEY_free);
}

Result<Key> Key::generate(KeyType type, int rsa_bits) {
  EVP_PKEY* pkey = nullptr;
  switch (type) {
    case KeyType::Rsa:
      if (rsa_bits < 2048) {
        return CryptoErrc::KeyTooSmall;
      }
      if (rsa_bits > kMaxRsaBits) {
        return CryptoErrc::UnsupportedKey;
      }
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(rsa_bits));
      break;
    case KeyType::Ec:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::Ed25519:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  if (pkey == nullptr) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  return Key(pkey);
}

Result<Key> Key::from_pem(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxPemBytes) {
    return CryptoErrc::InvalidKey;
  }
  EVP_PKEY* raw = nullptr;
  if (BioPtr bio = mem_bio(pem.data(), pem.size())) {
    raw = PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, no_passphrase, nullptr, nullptr,
                                     nullptr);
  }
  if (raw == nullptr) {
    ERR_clear_error();
    if (BioPtr bio = mem_bio(pem.data(), pem.size())) {
      raw = PEM_read_bio_PUBKEY_ex(bio.get(), nullptr, no_passphrase, nullptr, nullptr,
                                   nullptr);
    }
  }
  if (raw == nullptr) {
    ERR_clear_error();
    return CryptoErrc::InvalidKey;
  }
  PkeyPtr pkey(raw);
  if (auto ec = detail::check_key_policy(pkey.get()); ec) {
    return ec;
  }
  return Key(pkey.release());
}

Result<Key> Key::from_public_der(std::string_view spki_der) {
  if (spki_der.empty() || spki_der.size() > kMaxDerBytes) {
    return CryptoErrc::InvalidKey;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(spki_der.data());
  const unsigned char* end = p + spki_der.size();
  PkeyPtr pkey(d2i_PUBKEY_ex(nullptr, &p, static_cast<long>(spki_der.size()), nullptr, nullptr));
  if (!pkey || p != end) {  // trailing bytes after the SPKI are refused
    ERR_clear_error();
    return CryptoErrc::InvalidKey;
  }
  if (auto ec = detail::check_key_policy(pkey.get()); ec) {
    return ec;
  }
  return Key(pkey.release());
}

Result<Key> Key::from_raw_ed25519(std::string_view bytes, bool is_private) {
  if (bytes.size() != 32) {
    return CryptoErrc::InvalidKey;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  EVP_PKEY* pkey =
      is_private ? EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, p, bytes.size())
                 : EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, p, bytes.size());
  if (pkey == nullptr) {
    ERR_clear_error();
    return CryptoErrc::InvalidKey;
  }
  return Key(pkey);
}

Result<Key> Key::from_rsa_components(std::string_view n, std::string_view e, std::string_view d,
                                     std::string_view p, std::string_view q,
                                     std::string_view dp, std::string_view dq,
                                     std::string_view qi) {
  if (n.empty() || e.empty() || n.size() > kMaxRsaBits / 8 + 1 || e.size() > 64) {
    return n.size() > kMaxRsaBits / 8 + 1 ? make_error_code(CryptoErrc::UnsupportedKey)
                                          : make_error_code(CryptoErrc::InvalidKey);
  }
  const bool any_private = !d.empty() || !p.empty() || !q.empty() || !dp.empty() ||
                           !dq.empty() || !qi.empty();
  const bool all_private = !d.empty() && !p.empty() && !q.empty() && !dp.empty() &&
                           !dq.empty() && !qi.empty();
  if (any_private && !all_private) {
    return CryptoErrc::InvalidKey;
  }
  for (std::string_view v : {d, p, q, dp, dq, qi}) {
    if (v.size() > n.size()) {
      return CryptoErrc::InvalidKey;
    }
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  std::vector<SecretBnPtr> keep;
  bool ok = bld && push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_N, n, keep) &&
            push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_E, e, keep);
  if (ok && all_private) {
    ok = push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_D, d, keep) &&
         push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p, keep) &&
         push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q, keep) &&
         push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dp, keep) &&
         push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dq, keep) &&
         push_bn(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi, keep);
  }
  ParamsPtr params(ok ? OSSL_PARAM_BLD_to_param(bld.get()) : nullptr);
  if (!params) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  // Size policy before the (costly) consistency checks.
  {
    BnPtr nbn(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                        static_cast<int>(n.size()), nullptr));
    if (!nbn) {
      ERR_clear_error();
      return CryptoErrc::Internal;
    }
    if (BN_num_bits(nbn.get()) < 2048) {
      return CryptoErrc::KeyTooSmall;
    }
  }
  return from_params("RSA", all_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get());
}

Result<Key> Key::from_ec_p256(std::string_view x, std::string_view y, std::string_view d) {
  // RFC 7518 §6.2.1.2/§6.2.2.1: coordinates and d are the full 32 bytes for P-256.
  if (x.size() != 32 || y.size() != 32 || (!d.empty() && d.size() != 32)) {
    return CryptoErrc::InvalidKey;
  }
  std::string point;
  point.reserve(65);
  point.push_back('\x04');
  point.append(x);
  point.append(y);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  std::vector<SecretBnPtr> keep;
  bool ok = bld &&
            OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ==
                1 &&
            OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                             point.size()) == 1;
  if (ok && !d.empty()) {
    ok = push_bn(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d, keep);
  }
  ParamsPtr params(ok ? OSSL_PARAM_BLD_to_param(bld.get()) : nullptr);
  if (!params) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  return from_params("EC", d.empty() ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR, params.get());
}

std::string Key::private_pem() const {
  if (!valid() || !private_) {
    return {};
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0,
                                            nullptr, nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  return bio_contents(bio.get());
}

std::string Key::public_pem() const {
  if (!valid()) {
    return {};
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) {
    ERR_clear_error();
    return {};
  }
  return bio_contents(bio.get());
}

std::string Key::public_der() const {
  if (!valid()) {
    return {};
  }
  unsigned char* buf = nullptr;
  int len = i2d_PUBKEY(pkey_.get(), &buf);
  OsslBytesPtr owned(buf);
  if (len <= 0 || buf == nullptr) {
    ERR_clear_error();
    return {};
  }
  return std::string(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
}

bool Key::is_private() const { return valid() && private_; }

KeyType Key::type() const { return type_; }

int Key::bits() const { return valid() ? EVP_PKEY_get_bits(pkey_.get()) : 0; }

Key Key::public_only() const {
  if (!valid()) {
    return {};
  }
  if (!private_) {
    return *this;
  }
  std::string der = public_der();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* pub = d2i_PUBKEY_ex(nullptr, &p, static_cast<long>(der.size()), nullptr, nullptr);
  if (pub == nullptr) {
    ERR_clear_error();
    return {};
  }
  return Key(pub);
}

bool Key::same_public_key(const Key& other) const {
  if (!valid() || !other.valid()) {
    return false;
  }
  int r = EVP_PKEY_eq(pkey_.get(), other.pkey_.get());
  if (r != 1) {
    ERR_clear_error();
  }
  return r == 1;
}

std::string Key::ec_curve() const {
  if (!valid() || type_ != KeyType::Ec) {
    return {};
  }
  return detail::ec_group_name(pkey_.get());
}

Result<Key::RsaComponents> Key::rsa_components() const {
  if (!valid() || type_ != KeyType::Rsa) {
    return CryptoErrc::InvalidKey;
  }
  RsaComponents c;
  SecretBnPtr n = get_bn(pkey_.get(), OSSL_PKEY_PARAM_RSA_N);
  SecretBnPtr e = get_bn(pkey_.get(), OSSL_PKEY_PARAM_RSA_E);
  if (!n || !e) {
    return CryptoErrc::Internal;
  }
  c.n = bn_bytes(n.get());
  c.e = bn_bytes(e.get());
  if (private_) {
    c.d = bn_bytes(get_bn(pkey_.get(), OSSL_PKEY_PARAM_RSA_D).get());
    c.p = bn_bytes(get_bn(pkey_.get(), OSSL_PKEY_PARAM_RSA_FACTOR1).get());
    c.q = bn_bytes(get_bn(pkey_.get(), OSSL_PKEY_PARAM_RSA_FACTOR2).get());
    c.dp = bn_bytes(get_bn(pkey_.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1).get());
    c.dq = bn_bytes(get_bn(pkey_.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2).get());
    c.qi = bn_bytes(get_bn(pkey_.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1).get());
  }
  return c;
}

Result<Key::EcComponents> Key::ec_components() const {
  if (!valid() || !detail::is_p256(pkey_.get())) {
    return CryptoErrc::InvalidKey;
  }
  EcComponents c;
  c.x = bn_bytes_padded(get_bn(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_X).get(), 32);
  c.y = bn_bytes_padded(get_bn(pkey_.get(), OSSL_PKEY_PARAM_EC_PUB_Y).get(), 32);
  if (c.x.empty() || c.y.empty()) {
    return CryptoErrc::Internal;
  }
  if (private_) {
    c.d = bn_bytes_padded(get_bn(pkey_.get(), OSSL_PKEY_PARAM_PRIV_KEY).get(), 32);
    if (c.d.empty()) {
      return CryptoErrc::Internal;
    }
  }
  return c;
}

Result<Key::OkpComponents> Key::okp_components() const {
  if (!valid() || type_ != KeyType::Ed25519) {
    return CryptoErrc::InvalidKey;
  }
  OkpComponents c;
  unsigned char buf[32];
  std::size_t len = sizeof(buf);
  if (EVP_PKEY_get_raw_public_key(pkey_.get(), buf, &len) != 1 || len != 32) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  c.x.assign(reinterpret_cast<const char*>(buf), len);
  if (private_) {
    len = sizeof(buf);
    if (EVP_PKEY_get_raw_private_key(pkey_.get(), buf, &len) != 1 || len != 32) {
      ERR_clear_error();
      OPENSSL_cleanse(buf, sizeof(buf));
      return CryptoErrc::Internal;
    }
    c.d.assign(reinterpret_cast<const char*>(buf), len);
    OPENSSL_cleanse(buf, sizeof(buf));
  }
  return c;
}

}  // namespace fapigate::crypto
