#include "jose/jwk.hpp"

#include <array>
#include <cstring>
#include <unordered_set>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/base64url.hpp"
#include "core/json.hpp"
#include "crypto/digest.hpp"
#include "crypto/signature.hpp"
#include "crypto/x509.hpp"
#include "jose/jose_errc.hpp"

namespace fapigate::jose {
namespace {

namespace json = boost::json;

// Bounds on what one JWK may contain. RSA moduli above 4096 bits are not used by FAPI
// participants and make every parse expensive: the SP 800-56B public check runs Miller-Rabin on
// the modulus, and the key-pair check of a private key tests both primes (an 8192-bit private
// JWK took 4 s of CPU in release builds and 18 s under the sanitizers; found by fuzz_jwk). A
// client JWKS is parsed at every authentication, so the bound is also a per-request cost bound.
// A public exponent above 2^32 is never used by anyone but an attacker (RFC 8017 allows it,
// SP 800-56B caps it well below what would make verification expensive).
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 4096;
constexpr std::size_t kMaxRsaExponentBytes = 4;
constexpr std::size_t kMaxX5c = 10;
constexpr std::size_t kP256Bytes = 32;
constexpr std::size_t kEd25519Bytes = 32;
constexpr core::JsonLimits kJwkJsonLimits{64 * 1024, 4};

// Private key bytes are wiped when they go out of scope.
struct Secret {
  std::string bytes;
  Secret() = default;
  explicit Secret(std::string b) : bytes(std::move(b)) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

ErrorCode invalid() { return make_error_code(JoseErrc::JwkInvalid); }
ErrorCode unsupported() { return make_error_code(JoseErrc::JwkUnsupported); }

// crypto's key-building errors as JOSE errors: a key outside the supported set is unsupported,
// everything else (too small, off the curve, inconsistent private half) is an invalid JWK.
ErrorCode from_crypto(const ErrorCode& ec) {
  return ec == crypto::CryptoErrc::UnsupportedKey ? unsupported() : invalid();
}

// A member that must be a string when present: nullopt when absent, error when ill-typed.
Result<std::optional<std::string_view>> optional_string(const json::object& o,
                                                        std::string_view name) {
  auto it = o.find(name);
  if (it == o.end()) {
    return std::optional<std::string_view>{};
  }
  const auto* s = it->value().if_string();
  if (s == nullptr) {
    return invalid();
  }
  return std::optional<std::string_view>{std::string_view(*s)};
}

// A required base64url member, decoded.
Result<std::string> required_b64(const json::object& o, std::string_view name) {
  auto s = core::get_string(o, name);
  if (!s) {
    return invalid();
  }
  auto bytes = core::base64url_decode(*s);
  if (!bytes) {
    return invalid();
  }
  return std::move(*bytes);
}

// A base64url member of exactly `size` bytes.
Result<std::string> fixed_b64(const json::object& o, std::string_view name, std::size_t size) {
  auto bytes = required_b64(o, name);
  if (!bytes) {
    return bytes.error();
  }
  if (bytes->size() != size) {
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return invalid();
  }
  return bytes;
}

// RFC 7518 §2 Base64urlUInt: non-empty and minimal (no leading zero octet).
Result<std::string> uint_b64(const json::object& o, std::string_view name,
                             std::size_t max_bytes) {
  auto bytes = required_b64(o, name);
  if (!bytes) {
    return bytes.error();
  }
  if (bytes->empty() || bytes->size() > max_bytes || (*bytes)[0] == '\0') {
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return invalid();
  }
  return bytes;
}

int rsa_bits_of(std::string_view n) {
  unsigned char top = static_cast<unsigned char>(n[0]);
  int bits = static_cast<int>(n.size() - 1) * 8;
  while (top != 0) {
    ++bits;
    top >>= 1;
  }
  return bits;
}

// RFC 7518 §6.3.
Result<crypto::Key> parse_rsa(const json::object& o) {
  if (o.contains("oth")) {
    return unsupported();  // multi-prime keys (RFC 7518 §6.3.2.7)
  }
  auto n = uint_b64(o, "n", kMaxRsaBits / 8);
  auto e = uint_b64(o, "e", kMaxRsaExponentBytes);
  if (!n || !e) {
    return invalid();
  }
  int bits = rsa_bits_of(*n);
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return invalid();
  }
  // e must be odd and at least 3 (RFC 8017 §3.1).
  auto e_last = static_cast<unsigned char>(e->back());
  if ((e_last & 1U) == 0 || (e->size() == 1 && e_last < 3)) {
    return invalid();
  }
  static constexpr std::array<const char*, 6> kPrivateMembers{"d", "p", "q", "dp", "dq", "qi"};
  std::size_t present = 0;
  for (const char* m : kPrivateMembers) {
    present += o.contains(m) ? 1 : 0;
  }
  Result<crypto::Key> key = crypto::Key{};
  if (present == 0) {
    key = crypto::Key::from_rsa_components(*n, *e);
  } else if (present == kPrivateMembers.size()) {
    // RFC 7518 §6.3.2 lets "d" come alone, but then the key cannot be checked against "n"
    // (pairwise check); such keys, and partial CRT sets, are refused.
    std::array<Secret, 6> priv;
    for (std::size_t i = 0; i < kPrivateMembers.size(); ++i) {
      auto bytes = uint_b64(o, kPrivateMembers[i], kMaxRsaBits / 8);
      if (!bytes) {
        return invalid();
      }
      priv[i].bytes = std::move(*bytes);
    }
    key = crypto::Key::from_rsa_components(*n, *e, priv[0].bytes, priv[1].bytes, priv[2].bytes,
                                           priv[3].bytes, priv[4].bytes, priv[5].bytes);
  } else {
    return invalid();
  }
  if (!key) {
    return from_crypto(key.error());
  }
  return key;
}

// RFC 7518 §6.2, P-256 only.
Result<crypto::Key> parse_ec(const json::object& o) {
  auto crv = core::get_string(o, "crv");
  if (!crv) {
    return invalid();
  }
  if (*crv != "P-256") {
    return unsupported();  // P-384, P-521, secp256k1, ...
  }
  auto x = fixed_b64(o, "x", kP256Bytes);
  auto y = fixed_b64(o, "y", kP256Bytes);
  if (!x || !y) {
    return invalid();
  }
  Secret d;
  if (o.contains("d")) {
    auto bytes = fixed_b64(o, "d", kP256Bytes);
    if (!bytes) {
      return invalid();
    }
    d.bytes = std::move(*bytes);
  }
  // crypto checks the point is on the curve (and that d belongs to it).
  auto key = crypto::Key::from_ec_p256(*x, *y, d.bytes);
  if (!key) {
    return from_crypto(key.error());
  }
  return key;
}

// RFC 8037 §2, Ed25519 only.
Result<crypto::Key> parse_okp(const json::object& o) {
  auto crv = core::get_string(o, "crv");
  if (!crv) {
    return invalid();
  }
  if (*crv != "Ed25519") {
    return unsupported();  // Ed448, X25519, X448
  }
  auto x = fixed_b64(o, "x", kEd25519Bytes);
  if (!x) {
    return invalid();
  }
  if (!o.contains("d")) {
    auto key = crypto::Key::from_raw_ed25519(*x, /*is_private=*/false);
    if (!key) {
      return from_crypto(key.error());
    }
    return key;
  }
  auto d = fixed_b64(o, "d", kEd25519Bytes);
  if (!d) {
    return invalid();
  }
  Secret seed(std::move(*d));
  auto key = crypto::Key::from_raw_ed25519(seed.bytes, /*is_private=*/true);
  if (!key) {
    return from_crypto(key.error());
  }
  // The public key is derived from d; "x" must be that key (RFC 8037 §2).
  auto derived = key->okp_components();
  if (!derived) {
    return invalid();
  }
  Secret derived_d(std::move(derived->d));
  if (derived->x != *x) {
    return invalid();
  }
  return key;
}

Result<crypto::Key> parse_key_material(const json::object& o, std::string_view kty) {
  if (kty == "RSA") {
    return parse_rsa(o);
  }
  if (kty == "EC") {
    return parse_ec(o);
  }
  if (kty == "OKP") {
    return parse_okp(o);
  }
  return unsupported();  // "oct" (HMAC secrets) and anything unknown
}

// RFC 7517 §4.7: base64 (not base64url) DER certificates; the first one holds this key.
Result<std::vector<std::string>> parse_x5c(const json::object& o, const crypto::Key& key) {
  std::vector<std::string> out;
  auto it = o.find("x5c");
  if (it == o.end()) {
    return out;
  }
  const auto* arr = it->value().if_array();
  if (arr == nullptr || arr->empty() || arr->size() > kMaxX5c) {
    return invalid();
  }
  out.reserve(arr->size());
  for (const auto& v : *arr) {
    const auto* s = v.if_string();
    if (s == nullptr || !core::base64_decode(std::string_view(*s))) {
      return invalid();
    }
    out.emplace_back(*s);
  }
  auto der = core::base64_decode(out.front());
  auto cert = crypto::parse_certificate_der(*der);
  if (!cert || !cert->public_key.valid() || !cert->public_key.same_public_key(key)) {
    return invalid();
  }
  auto s256 = core::get_string(o, "x5t#S256");
  if (s256 && *s256 != crypto::x5t_s256(*der)) {
    return invalid();
  }
  return out;
}

struct PublicMembers {
  crypto::KeyType type = crypto::KeyType::Rsa;
  // base64url: RSA n, e; EC x, y; OKP x.
  std::string a, b;
  // base64url private members in RFC 7518 / RFC 8037 order, filled only when asked for.
  std::vector<std::pair<std::string_view, std::string>> priv;
};

// The public members straight from the EVP_PKEY: one parameter fetch per member. crypto::Key's
// *_components() also export the private members, and for EC convert each coordinate to affine
// separately; for thumbprints (computed per DPoP proof later) that doubles the cost.
bool fast_public_members(const crypto::Key& key, PublicMembers& m) {
  EVP_PKEY* pkey = key.get();
  if (m.type == crypto::KeyType::Ec) {
    // 65 bytes would fit any 256-bit curve (secp256k1, brainpool): only P-256 is a JWK "P-256".
    std::string curve = key.ec_curve();
    if (curve != "prime256v1" && curve != "P-256") {
      return false;
    }
    unsigned char point[1 + 2 * kP256Bytes];
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
                                        sizeof(point), &len) != 1 ||
        len != sizeof(point) || point[0] != 0x04) {
      ERR_clear_error();
      return false;
    }
    const auto* p = reinterpret_cast<const char*>(point);
    m.a = core::base64url_encode(std::string_view(p + 1, kP256Bytes));
    m.b = core::base64url_encode(std::string_view(p + 1 + kP256Bytes, kP256Bytes));
    return true;
  }
  if (m.type == crypto::KeyType::Rsa) {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
              EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1;
    if (ok) {
      std::string nb(static_cast<std::size_t>(BN_num_bytes(n)), '\0');
      std::string eb(static_cast<std::size_t>(BN_num_bytes(e)), '\0');
      BN_bn2bin(n, reinterpret_cast<unsigned char*>(nb.data()));
      BN_bn2bin(e, reinterpret_cast<unsigned char*>(eb.data()));
      m.a = core::base64url_encode(nb);
      m.b = core::base64url_encode(eb);
    } else {
      ERR_clear_error();
    }
    BN_free(n);
    BN_free(e);
    return ok;
  }
  return false;
}

std::optional<PublicMembers> members_of(const crypto::Key& key, bool with_private) {
  if (!key.valid()) {
    return std::nullopt;
  }
  PublicMembers m;
  m.type = key.type();
  if (!with_private && key.type() != crypto::KeyType::Ed25519) {
    if (fast_public_members(key, m)) {
      return m;
    }
  }
  auto put = [&m](std::string_view name, std::string& bytes) {
    if (!bytes.empty()) {
      m.priv.emplace_back(name, core::base64url_encode(bytes));
    }
    OPENSSL_cleanse(bytes.data(), bytes.size());
  };
  switch (m.type) {
    case crypto::KeyType::Rsa: {
      auto c = key.rsa_components();
      if (!c) {
        return std::nullopt;
      }
      m.a = core::base64url_encode(c->n);
      m.b = core::base64url_encode(c->e);
      if (with_private) {
        put("d", c->d);
        put("p", c->p);
        put("q", c->q);
        put("dp", c->dp);
        put("dq", c->dq);
        put("qi", c->qi);
      } else {
        for (std::string* s : {&c->d, &c->p, &c->q, &c->dp, &c->dq, &c->qi}) {
          OPENSSL_cleanse(s->data(), s->size());
        }
      }
      return m;
    }
    case crypto::KeyType::Ec: {
      auto c = key.ec_components();
      if (!c) {
        return std::nullopt;
      }
      m.a = core::base64url_encode(c->x);
      m.b = core::base64url_encode(c->y);
      if (with_private) {
        put("d", c->d);
      } else {
        OPENSSL_cleanse(c->d.data(), c->d.size());
      }
      return m;
    }
    case crypto::KeyType::Ed25519: {
      auto c = key.okp_components();
      if (!c) {
        return std::nullopt;
      }
      m.a = core::base64url_encode(c->x);
      if (with_private) {
        put("d", c->d);
      } else {
        OPENSSL_cleanse(c->d.data(), c->d.size());
      }
      return m;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<Jwk> parse_jwk(const boost::json::object& object) {
  auto kty = core::get_string(object, "kty");
  if (!kty) {
    return invalid();
  }
  auto kid = optional_string(object, "kid");
  auto use = optional_string(object, "use");
  auto alg_name_member = optional_string(object, "alg");
  if (!kid || !use || !alg_name_member || !optional_string(object, "x5t#S256")) {
    return invalid();
  }
  if (auto it = object.find("key_ops"); it != object.end()) {
    const auto* ops = it->value().if_array();
    if (ops == nullptr) {
      return invalid();
    }
    for (const auto& op : *ops) {
      if (!op.is_string()) {
        return invalid();
      }
    }
  }
  if (*use && **use != "sig" && **use != "enc") {
    return unsupported();
  }
  // A JWK "alg" outside the allow-list makes the key unusable here (RSA1_5, RS256, HS256, ...).
  std::optional<Alg> alg;
  if (*alg_name_member) {
    alg = parse_alg(**alg_name_member);
    if (!alg) {
      return unsupported();
    }
  }
  auto key = parse_key_material(object, *kty);
  if (!key) {
    return key.error();
  }
  if (alg && !crypto::key_fits(*alg, *key)) {
    return make_error_code(JoseErrc::AlgKeyMismatch);
  }
  auto x5c = parse_x5c(object, *key);
  if (!x5c) {
    return x5c.error();
  }
  Jwk jwk;
  jwk.key = std::move(*key);
  jwk.kid = *kid ? std::string(**kid) : std::string();
  jwk.alg = alg;
  jwk.use = *use ? std::string(**use) : std::string();
  jwk.x5c = std::move(*x5c);
  return jwk;
}

Result<Jwk> parse_jwk(std::string_view json_text) {
  auto object = core::parse_json_object(json_text, kJwkJsonLimits);
  if (!object) {
    if (object.error() == core::JsonErrc::TooLarge) {
      return make_error_code(JoseErrc::TooLarge);
    }
    return invalid();
  }
  return parse_jwk(*object);
}

Jwk make_jwk(crypto::Key key, std::string kid, std::optional<Alg> alg) {
  Jwk jwk;
  jwk.key = std::move(key);
  jwk.kid = std::move(kid);
  jwk.alg = alg;
  return jwk;
}

// Stable member order: kty, kid, use, alg, the key material (RFC 7518 / 8037 order), private
// members, x5c.
boost::json::object to_json(const Jwk& jwk, bool include_private) {
  json::object out;
  auto m = members_of(jwk.key, include_private && jwk.key.is_private());
  if (!m) {
    return out;
  }
  switch (m->type) {
    case crypto::KeyType::Rsa: out["kty"] = "RSA"; break;
    case crypto::KeyType::Ec: out["kty"] = "EC"; break;
    case crypto::KeyType::Ed25519: out["kty"] = "OKP"; break;
  }
  if (!jwk.kid.empty()) {
    out["kid"] = jwk.kid;
  }
  if (!jwk.use.empty()) {
    out["use"] = jwk.use;
  }
  if (jwk.alg) {
    out["alg"] = alg_name(*jwk.alg);
  }
  switch (m->type) {
    case crypto::KeyType::Rsa:
      out["n"] = m->a;
      out["e"] = m->b;
      break;
    case crypto::KeyType::Ec:
      out["crv"] = "P-256";
      out["x"] = m->a;
      out["y"] = m->b;
      break;
    case crypto::KeyType::Ed25519:
      out["crv"] = "Ed25519";
      out["x"] = m->a;
      break;
  }
  for (auto& [name, value] : m->priv) {
    out[name] = value;
    OPENSSL_cleanse(value.data(), value.size());
  }
  if (!jwk.x5c.empty()) {
    json::array chain;
    chain.reserve(jwk.x5c.size());
    for (const auto& c : jwk.x5c) {
      chain.emplace_back(c);
    }
    out["x5c"] = std::move(chain);
  }
  return out;
}

std::string to_json_string(const Jwk& jwk, bool include_private) {
  return json::serialize(to_json(jwk, include_private));
}

// RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace. None of the
// values can need JSON escaping (fixed names and base64url), so the text is assembled directly.
std::string thumbprint(const Jwk& jwk) {
  auto m = members_of(jwk.key, /*with_private=*/false);
  if (!m) {
    return {};
  }
  std::string canonical;
  canonical.reserve(64 + m->a.size() + m->b.size());
  switch (m->type) {
    case crypto::KeyType::Rsa:
      canonical.append(R"({"e":")").append(m->b).append(R"(","kty":"RSA","n":")").append(m->a);
      canonical.append(R"("})");
      break;
    case crypto::KeyType::Ec:
      canonical.append(R"({"crv":"P-256","kty":"EC","x":")").append(m->a);
      canonical.append(R"(","y":")").append(m->b).append(R"("})");
      break;
    case crypto::KeyType::Ed25519:
      canonical.append(R"({"crv":"Ed25519","kty":"OKP","x":")").append(m->a).append(R"("})");
      break;
  }
  return crypto::sha256_b64url(canonical);
}

const Jwk* Jwks::find(std::string_view kid) const {
  for (const auto& k : keys) {
    if (k.kid == kid) {
      return &k;
    }
  }
  return nullptr;
}

Result<Jwks> parse_jwks(std::string_view json_text, JwksLimits limits) {
  // Depth: the set object, "keys", each JWK, its x5c / key_ops array.
  auto doc = core::parse_json_object(json_text, core::JsonLimits{limits.max_bytes, 4});
  if (!doc) {
    if (doc.error() == core::JsonErrc::TooLarge) {
      return make_error_code(JoseErrc::TooLarge);
    }
    return make_error_code(JoseErrc::JwksInvalid);
  }
  auto it = doc->find("keys");
  if (it == doc->end() || !it->value().is_array()) {
    return make_error_code(JoseErrc::JwksInvalid);
  }
  const auto& arr = it->value().get_array();
  if (arr.size() > limits.max_keys) {
    return make_error_code(JoseErrc::JwksInvalid);
  }
  Jwks out;
  out.keys.reserve(arr.size());
  // RFC 7517 §5: members that are not understood, or keys out of the supported range, are
  // ignored. A later key with the kid and kty of an earlier one is ignored too, so that a kid
  // always selects the same key (RFC 7517 §4.5 wants distinct kids within one kty).
  std::unordered_set<std::string> seen;
  for (const auto& v : arr) {
    const auto* o = v.if_object();
    if (o == nullptr) {
      continue;
    }
    auto jwk = parse_jwk(*o);
    if (!jwk || jwk->use == "enc") {
      continue;
    }
    std::string id = std::to_string(static_cast<int>(jwk->key.type())) + ':' + jwk->kid;
    if (!jwk->kid.empty() && !seen.insert(std::move(id)).second) {
      continue;
    }
    out.keys.push_back(std::move(*jwk));
  }
  return out;
}

std::string to_json_string(const Jwks& jwks, bool include_private) {
  json::array keys;
  keys.reserve(jwks.keys.size());
  for (const auto& k : jwks.keys) {
    keys.emplace_back(to_json(k, include_private));
  }
  json::object out;
  out["keys"] = std::move(keys);
  return json::serialize(out);
}

}  // namespace fapigate::jose
