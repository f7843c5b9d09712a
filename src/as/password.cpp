#include "as/password.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <charconv>
#include <memory>
#include <optional>

#include "core/base64url.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"

namespace fapigate::as {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;
// No password is longer in practice; the bound keeps the KDF input (and the form) small.
constexpr std::size_t kMaxPasswordBytes = 1024;

struct Decoded {
  ScryptParams params;
  std::string salt;
  std::string key;
};

bool params_in_bounds(const ScryptParams& p) {
  return p.log2_n >= 10 && p.log2_n <= 20 && p.r >= 1 && p.r <= 32 && p.p >= 1 && p.p <= 16;
}

std::optional<std::uint32_t> parse_u32(std::string_view s) {
  std::uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

std::optional<Decoded> decode(std::string_view encoded) {
  if (encoded.size() > 256) {
    return std::nullopt;
  }
  // "", "scrypt", "ln=..,r=..,p=..", salt, key
  auto parts = core::split(encoded, '$');
  if (parts.size() != 5 || !parts[0].empty() || parts[1] != "scrypt") {
    return std::nullopt;
  }
  auto kv = core::split(parts[2], ',');
  if (kv.size() != 3) {
    return std::nullopt;
  }
  Decoded d;
  const std::pair<std::string_view, std::uint32_t*> fields[] = {
      {"ln=", &d.params.log2_n}, {"r=", &d.params.r}, {"p=", &d.params.p}};
  for (std::size_t i = 0; i < 3; ++i) {
    if (kv[i].substr(0, fields[i].first.size()) != fields[i].first) {
      return std::nullopt;
    }
    auto v = parse_u32(kv[i].substr(fields[i].first.size()));
    if (!v) {
      return std::nullopt;
    }
    *fields[i].second = *v;
  }
  if (!params_in_bounds(d.params)) {
    return std::nullopt;
  }
  auto salt = core::base64url_decode(parts[3]);
  auto key = core::base64url_decode(parts[4]);
  if (!salt || !key || salt->size() < 8 || salt->size() > 64 || key->size() != kKeyBytes) {
    return std::nullopt;
  }
  d.salt = std::move(*salt);
  d.key = std::move(*key);
  return d;
}

std::optional<std::string> derive(std::string_view password, std::string_view salt,
                                  const ScryptParams& p) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr),
                                                        EVP_KDF_free);
  if (!kdf) {
    return std::nullopt;
  }
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> kctx(EVP_KDF_CTX_new(kdf.get()),
                                                                 EVP_KDF_CTX_free);
  if (!kctx) {
    return std::nullopt;
  }
  std::uint64_t n = std::uint64_t{1} << p.log2_n;
  std::uint32_t r = p.r;
  std::uint32_t par = p.p;
  // 128 * r * N plus headroom for p lanes; the bounds above keep this under 1 GiB.
  std::uint64_t maxmem = 128ull * r * n * 2 + 128ull * r * par + (1u << 20);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                        const_cast<char*>(password.data()), password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  std::string out(kKeyBytes, '\0');
  if (EVP_KDF_derive(kctx.get(), reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     params) != 1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

Result<std::string> hash_password(std::string_view password, ScryptParams params) {
  if (!params_in_bounds(params) || password.size() > kMaxPasswordBytes) {
    return make_error_code(boost::system::errc::invalid_argument);
  }
  const std::string salt = crypto::random_bytes(kSaltBytes);
  auto key = derive(password, salt, params);
  if (!key) {
    return make_error_code(boost::system::errc::not_enough_memory);
  }
  return "$scrypt$ln=" + std::to_string(params.log2_n) + ",r=" + std::to_string(params.r) +
         ",p=" + std::to_string(params.p) + "$" + core::base64url_encode(salt) + "$" +
         core::base64url_encode(*key);
}

bool verify_password(std::string_view password, std::string_view encoded) {
  if (password.size() > kMaxPasswordBytes) {
    return false;
  }
  auto d = decode(encoded);
  if (!d) {
    return false;
  }
  auto key = derive(password, d->salt, d->params);
  return key && crypto::constant_time_equal(*key, d->key);
}

bool password_hash_well_formed(std::string_view encoded) { return decode(encoded).has_value(); }

}  // namespace fapigate::as
