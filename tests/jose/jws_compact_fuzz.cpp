// libFuzzer target for the JWS compact parser and verifier (jose/jws.hpp): any bytes as a
// token, parsed under every allow-list and verified against the fixed client key set
// (jose/fuzz_keys.hpp). Seeds: tests/fuzz/corpus/jws_compact (written by jose_fuzz_seeds).
// Invariants, each an abort:
//  - a parse that succeeds names an alg of the allow-list, equal to the header's "alg" string,
//    has no "crit" and no "b64":false, and its segments re-encode to exactly the input
//    (base64url decoding is strict, so one token has one encoding);
//  - the limits hold: nothing longer than max_token_bytes parses;
//  - a verification that succeeds is confirmed by crypto::verify with the key the kid names,
//    is refused by the same kids under the other party's keys, and fails once one byte of the
//    signature or of the payload is changed. Random bytes therefore never verify: only the
//    signed seeds (and mutations that leave header, payload and signature intact) do.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base64url.hpp"
#include "crypto/signature.hpp"
#include "jose/fuzz_keys.hpp"
#include "jose/jws.hpp"

namespace {

using namespace fapigate;
using namespace fapigate::jose;
using fuzz::FuzzKeys;

struct Fixture {
  VerifierSet client;
  VerifierSet other;
  explicit Fixture(const FuzzKeys& k)
      : client(*parse_jwks(k.client_jwks_json)), other(*parse_jwks(k.other_jwks_json)) {}
};

const Fixture& fixture() {
  static const Fixture f(FuzzKeys::get());
  return f;
}

bool in_list(const AlgList& list, Alg alg) {
  for (Alg a : list) {
    if (a == alg) {
      return true;
    }
  }
  return false;
}

void check_parsed(std::string_view token, const ParsedJws& p, const AlgList& allowed,
                  const JwsLimits& limits) {
  FAPI_FUZZ_CHECK(token.size() <= limits.max_token_bytes);
  FAPI_FUZZ_CHECK(in_list(allowed, p.alg));
  const auto* alg = p.header.if_contains("alg");
  FAPI_FUZZ_CHECK(alg != nullptr && alg->is_string() &&
                  std::string_view(alg->get_string()) == alg_name(p.alg));
  FAPI_FUZZ_CHECK(!p.header.contains("crit"));
  if (const auto* b64 = p.header.if_contains("b64")) {
    FAPI_FUZZ_CHECK(b64->is_bool() && b64->get_bool());
  }
  if (const auto* kid = p.header.if_contains("kid")) {
    FAPI_FUZZ_CHECK(kid->is_string() && std::string_view(kid->get_string()) == p.kid);
  } else {
    FAPI_FUZZ_CHECK(p.kid.empty());
  }
  FAPI_FUZZ_CHECK(!p.signature.empty());
  // header '.' payload '.' signature, each the one strict encoding of what was decoded.
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');
  FAPI_FUZZ_CHECK(dot1 != std::string_view::npos && dot2 != dot1);
  FAPI_FUZZ_CHECK(p.signing_input == token.substr(0, dot2));
  FAPI_FUZZ_CHECK(core::base64url_encode(p.payload) == token.substr(dot1 + 1, dot2 - dot1 - 1));
  FAPI_FUZZ_CHECK(core::base64url_encode(p.signature) == token.substr(dot2 + 1));
  auto header_json = core::base64url_decode(token.substr(0, dot1));
  FAPI_FUZZ_CHECK(header_json && header_json->size() <= limits.max_header_bytes);
}

// The token with one decoded byte of the segment at [from, to) changed, re-encoded strictly.
std::string tampered(std::string_view token, std::size_t from, std::size_t to) {
  auto bytes = core::base64url_decode(token.substr(from, to - from));
  std::string raw = bytes ? *bytes : std::string();
  if (raw.empty()) {
    raw.push_back('x');
  } else {
    raw[raw.size() / 2] = static_cast<char>(raw[raw.size() / 2] ^ 0x01);
  }
  return std::string(token.substr(0, from)) + core::base64url_encode(raw) +
         std::string(token.substr(to));
}

const Jwk* client_key_for(const FuzzKeys& k, Alg alg) {
  switch (alg) {
    case Alg::PS256:
      return &k.client_ps256;
    case Alg::ES256:
      return &k.client_es256;
    case Alg::EdDSA:
      return &k.client_eddsa;
  }
  return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  const auto& keys = FuzzKeys::get();
  const auto& f = fixture();

  static const AlgList kLists[] = {kAllAlgs, {Alg::PS256}, {Alg::ES256}, {Alg::EdDSA}, {}};
  const JwsLimits defaults;
  JwsLimits small;
  small.max_token_bytes = 256;
  small.max_header_bytes = 64;
  small.max_json_depth = 2;
  for (const auto& list : kLists) {
    if (auto p = parse_compact(token, list, defaults)) {
      check_parsed(token, *p, list, defaults);
    }
  }
  if (auto p = parse_compact(token, kAllAlgs, small)) {
    check_parsed(token, *p, kAllAlgs, small);
  }

  auto verified = verify_compact(token, kAllAlgs, f.client);
  // The single-JWK form and the set form agree on the key the header selects.
  if (auto parsed = parse_compact(token, kAllAlgs)) {
    const Jwk* key = client_key_for(keys, parsed->alg);
    const bool selects_it = parsed->kid.empty() || parsed->kid == key->kid;
    auto single = verify_compact(token, kAllAlgs, *key);
    if (selects_it) {
      FAPI_FUZZ_CHECK(static_cast<bool>(single) == static_cast<bool>(verified));
    }
  }
  if (!verified) {
    FAPI_FUZZ_CHECK(verified.error().category() == make_error_code(JoseErrc::Malformed).category());
    return 0;
  }
  // Accepted: an allowed alg, confirmed by the raw signature check with the key of that alg
  // (each fixed key has its own kid and alg), and nobody else's key.
  check_parsed(token, *verified, kAllAlgs, defaults);
  const Jwk* key = client_key_for(keys, verified->alg);
  FAPI_FUZZ_CHECK(verified->kid.empty() || verified->kid == key->kid);
  FAPI_FUZZ_CHECK(crypto::verify(verified->alg, key->key.public_only(), verified->signing_input,
                                 verified->signature));
  FAPI_FUZZ_CHECK(!verify_compact(token, kAllAlgs, f.other));
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');
  FAPI_FUZZ_CHECK(!verify_compact(tampered(token, dot2 + 1, token.size()), kAllAlgs, f.client));
  FAPI_FUZZ_CHECK(!verify_compact(tampered(token, dot1 + 1, dot2), kAllAlgs, f.client));
  return 0;
}
