// libFuzzer target for one JWK (jose/jwk.hpp parse_jwk): any bytes as the JSON text. Seeds:
// tests/fuzz/corpus/jwk. Invariants, each an abort:
//  - an accepted key is one of RSA 2048..4096 bits, EC P-256 or Ed25519 (the documented bounds),
//    and fits its own "alg" when it names one;
//  - it round-trips: to_json (public, and private for a private key) parses back to the same
//    public key, kid, alg and use, with the same RFC 7638 thumbprint (43 base64url characters);
//  - the public serialisation carries no private member;
//  - an accepted private EC/Ed25519 key signs what its public half verifies (the pairwise check
//    parse_jwk promises); RSA private keys are left out only because signing 4096-bit keys per
//    input would make the target crawl.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "crypto/signature.hpp"
#include "jose/fuzz_keys.hpp"
#include "jose/jwk.hpp"

namespace {

using namespace fapigate;
using namespace fapigate::jose;

void check_same(const Jwk& a, const Jwk& b) {
  FAPI_FUZZ_CHECK(a.key.same_public_key(b.key));
  FAPI_FUZZ_CHECK(a.kid == b.kid);
  FAPI_FUZZ_CHECK(a.alg == b.alg);
  FAPI_FUZZ_CHECK(a.use == b.use);
  FAPI_FUZZ_CHECK(a.x5c == b.x5c);
  FAPI_FUZZ_CHECK(thumbprint(a) == thumbprint(b));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto jwk = parse_jwk(text);
  if (!jwk) {
    FAPI_FUZZ_CHECK(jwk.error().category() == make_error_code(JoseErrc::Malformed).category());
    return 0;
  }
  FAPI_FUZZ_CHECK(jwk->key.valid());
  switch (jwk->key.type()) {
    case crypto::KeyType::Rsa:
      FAPI_FUZZ_CHECK(jwk->key.bits() >= 2048 && jwk->key.bits() <= 4096);
      FAPI_FUZZ_CHECK(crypto::key_fits(Alg::PS256, jwk->key));
      break;
    case crypto::KeyType::Ec:
      FAPI_FUZZ_CHECK(crypto::key_fits(Alg::ES256, jwk->key));
      break;
    case crypto::KeyType::Ed25519:
      FAPI_FUZZ_CHECK(crypto::key_fits(Alg::EdDSA, jwk->key));
      break;
  }
  if (jwk->alg) {
    FAPI_FUZZ_CHECK(crypto::key_fits(*jwk->alg, jwk->key));
  }
  FAPI_FUZZ_CHECK(jwk->use.empty() || jwk->use == "sig" || jwk->use == "enc");
  const std::string tp = thumbprint(*jwk);
  FAPI_FUZZ_CHECK(tp.size() == 43);

  const std::string pub = to_json_string(*jwk, /*include_private=*/false);
  auto again = parse_jwk(pub);
  if (!again && jwk->key.type() == crypto::KeyType::Rsa) {
    // OpenSSL's RSA public-key check is probabilistic for a modulus that is not a product of
    // two large primes (Miller-Rabin with random bases): a mutated modulus may pass once and
    // fail the next time. Real keys always pass.
    return 0;
  }
  FAPI_FUZZ_CHECK(again);
  FAPI_FUZZ_CHECK(!again->key.is_private());
  check_same(*jwk, *again);
  // Member names, not text: a kid or x5c value may well read "q" (the first version searched
  // the text and tripped over {"kid":"q"}; regressions/jwk/kid_named_like_a_private_member).
  const boost::json::value pub_json = boost::json::parse(pub);
  FAPI_FUZZ_CHECK(pub_json.is_object());
  for (const char* m : {"d", "p", "q", "dp", "dq", "qi"}) {
    FAPI_FUZZ_CHECK(!pub_json.as_object().contains(m));
  }
  if (jwk->key.is_private()) {
    auto priv = parse_jwk(to_json_string(*jwk, /*include_private=*/true));
    FAPI_FUZZ_CHECK(priv || jwk->key.type() == crypto::KeyType::Rsa);
    if (!priv) {
      return 0;
    }
    FAPI_FUZZ_CHECK(priv->key.is_private());
    check_same(*jwk, *priv);
    if (jwk->key.type() != crypto::KeyType::Rsa) {
      const Alg alg = jwk->key.type() == crypto::KeyType::Ec ? Alg::ES256 : Alg::EdDSA;
      auto sig = crypto::sign(alg, jwk->key, "fuzz");
      FAPI_FUZZ_CHECK(sig);
      FAPI_FUZZ_CHECK(crypto::verify(alg, again->key, "fuzz", *sig));
    }
  }
  return 0;
}
