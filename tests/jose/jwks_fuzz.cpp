// libFuzzer target for JWK Sets (jose/jwk.hpp parse_jwks, as/checks parse_client_jwks' rules):
// any bytes as the JSON text, under the default limits and under small ones. Seeds:
// tests/fuzz/corpus/jwks. Invariants, each an abort:
//  - an accepted set has at most max_keys keys, came from at most max_bytes of text, holds no
//    "enc" key and no two keys of one type with the same non-empty kid;
//  - find(kid) returns the first key with that kid;
//  - it round-trips: the serialised public set parses to keys with the same thumbprints, kids
//    and algs, in order;
//  - the VerifierSet built from it has no more entries than keys.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "jose/fuzz_keys.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace {

using namespace fapigate;
using namespace fapigate::jose;

void check_set(std::string_view text, const Jwks& set, const JwksLimits& limits) {
  FAPI_FUZZ_CHECK(text.size() <= limits.max_bytes);
  FAPI_FUZZ_CHECK(set.keys.size() <= limits.max_keys);
  std::set<std::pair<int, std::string>> ids;
  for (const auto& k : set.keys) {
    FAPI_FUZZ_CHECK(k.key.valid());
    FAPI_FUZZ_CHECK(k.use != "enc");
    if (!k.kid.empty()) {
      FAPI_FUZZ_CHECK(ids.emplace(static_cast<int>(k.key.type()), k.kid).second);
      const Jwk* found = set.find(k.kid);
      FAPI_FUZZ_CHECK(found != nullptr && found->kid == k.kid);
    }
  }
  auto again = parse_jwks(to_json_string(set, /*include_private=*/false));
  FAPI_FUZZ_CHECK(again);
  if (again->keys.size() != set.keys.size()) {
    // Only an RSA key may drop out on a second parse: OpenSSL's public-key check of a modulus
    // that is not a product of two large primes uses Miller-Rabin with random bases.
    bool rsa = false;
    for (const auto& k : set.keys) {
      rsa = rsa || k.key.type() == crypto::KeyType::Rsa;
    }
    FAPI_FUZZ_CHECK(rsa);
    return;
  }
  for (std::size_t i = 0; i < set.keys.size(); ++i) {
    FAPI_FUZZ_CHECK(thumbprint(again->keys[i]) == thumbprint(set.keys[i]));
    FAPI_FUZZ_CHECK(again->keys[i].kid == set.keys[i].kid);
    FAPI_FUZZ_CHECK(again->keys[i].alg == set.keys[i].alg);
    FAPI_FUZZ_CHECK(!again->keys[i].key.is_private());
  }
  const VerifierSet verifiers(set);
  FAPI_FUZZ_CHECK(verifiers.size() <= set.keys.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const JwksLimits defaults;
  if (auto set = parse_jwks(text, defaults)) {
    check_set(text, *set, defaults);
  }
  JwksLimits small;
  small.max_bytes = 4096;
  small.max_keys = 2;
  if (auto set = parse_jwks(text, small)) {
    check_set(text, *set, small);
  }
  return 0;
}
