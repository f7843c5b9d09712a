// Fixed private keys for the libFuzzer targets of jose/ and as/ (tests/fuzz/corpus/*). They are
// test-only keys, generated once with `jose_tool keygen` for the fuzzers and used nowhere else:
// fixed rather than generated per process so that the signed seeds in the corpus stay valid
// (a fresh key would make every signed seed a BadSignature and hide the checks behind it).
// kClient* are the fuzzed client's registered keys (and the JWS verifier's set), kOther* a
// second party: the software-statement directory, or "someone else's key".
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace fapigate::jose::fuzz {

// The fixed "now" of every fuzz target (2023-11-14T22:13:20Z): seeds carry exp/iat around it.
inline constexpr std::int64_t kNow = 1'700'000'000;

inline constexpr std::string_view kClientPs256 =
    R"({"kty":"RSA","kid":"fuzz-ps256","alg":"PS256","n":"776_IqWy2zDYQfwfOhpIBDx4UkUvfqtR6X9U4fYjEZDzxnq16heuVbJdKr5SsUOl7TLx2fZL9ESla_FKO3jF7fBRH7NNz1n5NdPi1yB_TTHc6-Qi3dvdQG4GkonVU0pir9Yt5y3aU5Rh5I8-oD3ThBv6x1ta1K6TKfWX8Cpnjo6u0IYfnf_I8pO6liFYY0G7xE7gyQGRVjm94BjZjS3H48lM75nr1Hg4Vbi2c3Wxo9hw3IW5UEam5LWShM1s8mN3gP0LSyXFgA2JijfOgV6FznQdenE3mUIITWOTj2MtiUm1fiR5fLKMVWRrzRNCJrVFWK91G6E7CPepiz4HB2a8mQ","e":"AQAB","d":"BYR2CSHXmShJXdFj1ZY7wI80tK3_bxKZxr4lsbKUsYeMuK1jyOClJDc_4icxp383TxtsSfgbXOKEjRSnQPGhWn28nDZn7MT1EYpQDuPiUiA65ZnhPIpeD-jIUXCHHozYcxQCh-679s70JsquJgluN_zd218smrbuz5kll0MekX8HOpymsFdj8x6K5pFXgS9WE0bVfs8cwaD3n3R7F3l87ZKiTjpu3tI0BHLuNYbVnAf4S36cF1TzTk5OkFpm5xiC4q_hFgOUHZJrvgndWqdR3_TxaNacw5LRH3-B0FEKgkDzKwZIFj_CJ7Zak_fzt9nnhO7zLnZIjR_zA7CKHT8ZAQ","p":"_PZTQiUSkgfyc6i-v_hRDut7O-c5xkZXZ2dURI33WXF7NYKx3QZq8QGscSreKBxg3KLt-sGC3Ncp0rN5Y92h2RGIDeKPpAF7I8_bPI3xltHBC52EcR-dopzhwhewUhGN7FktpI9mIpmajrBud_D8v1w6SajXXWWkDndRp6H3kYE","q":"8p_J1Yni8E5OnRcu5jxgGm7YAs4SuCNobTqrn5IErHlA6lebXTiMAwb_eK1yzy9ctLFFUwqptjxJyaKSlMWXJXeETewvwoDQjRzqfDjRHRuJdyVa1HJUdkUWHLB05FQjlz9IB7biAbEtvqzI05QdMnZqirneyHq3xGJfkeK_Bxk","dp":"oNjgSAbasBBtki2SXO7AXARP798vVWwU16NUaeL7jNwjw_q-rhQOnAC8bZkcedTRonnXaMLzOwl1hoyoe1_KMgR7xphxTY_DhRn-BZscKxJk9cXLGUNJMMUgqBH4A7c1zztFUoX8I7QYGvMEyy9pByTVy1CY4MJodupX-Yd7rAE","dq":"AaejWciB-r-d-6ZP1JQu159P69z59bWQHcabqw_05jRBhBeq4JzlH5Qpo-oS8WTSTg0zetiExdBtdGmedFNQr5m8Fkf5H2t_gKbk1ooQqxEoA98GWpKZDuFzwChX88K7J2nwFNVjfz11IWrOR9snw9NY8K9J3LYxkK5XFoikYuk","qi":"fcK6JWtiVpNP0e3pwG9AyMUBKuAHXjV9Ztlltp9jEN38e1EBcoXgO9LbkpvXyma_WG6HIiyB72BLHkeinIlOVyIFVQ7FXxFQW6kc3W79ytVyjcdZ90VZir59B6p0E6n9B4CDphgHtDFdgRVIqQBAKjJw8iz32WxkdZRSnsBUMAA"})";
inline constexpr std::string_view kClientEs256 =
    R"({"kty":"EC","kid":"fuzz-es256","alg":"ES256","crv":"P-256","x":"VyBFVlF2jn5bOXgNTeyV1Bih1r2rjcil0uCf5NVXJ74","y":"7AxoOe2SJDQsXv9U3yQzD1vrcQRCQ0yM4T-825FU6ps","d":"AmKKbH3A3DzzFO2o6oaOp0Eufeur9tW27ev1kvHsCjM"})";
inline constexpr std::string_view kClientEdDsa =
    R"({"kty":"OKP","kid":"fuzz-eddsa","alg":"EdDSA","crv":"Ed25519","x":"6xBmBbTYyqhdtFsA8DXFpTm7McqCOc20j1fCvdaEMDQ","d":"lnXskzURMuwDMoFDpRAcar0CuZbnasHtwY8Re3IUTDM"})";
inline constexpr std::string_view kOtherPs256 =
    R"({"kty":"RSA","kid":"other-ps256","alg":"PS256","n":"p9STmZY28GNSVPnCdBGt2ZaU_-EMiDQK6f-_2qAY67LLxRmKUxWnSBZ8kUiwH8ZXVpgDoF3A0mnzrnj82SWgX5LIEYzdVtoXTfaLSkGQDe7wWA55Zgyok99TzyUJgR0aD06u5Zv6cgfB6pB09mUugSl7xDQc-5NUJ5f8XtvyFWfJDPJtyO8TtRkZfxCWeHgr7ZzGs2MdQO-JtWQ15Pr4CT2VXBJNnFS-UFarn82ev4BiYG9NZzkkaieKEAjEQJYKkohLVsHtTFJCgvbbeM5Cc7XMSD_jVPKxNR25m_I-a4OltxbH4fHCjAY0UF6BysRbrE8vn3I_ip4RNjBn4V6mCw","e":"AQAB","d":"R4ZG6Rulikkp22EdyA2Iw8Ry96HXj2xugk8mWmwEct6eDP_XfZUq14QNznTl6oTCz_q1APEzrfjNizuwtnJcqJ6LeT9JTSxg5i7-KcVLOUTtVPnGLwGSDoMM2qj0JfxbEM79pokU8Ofxcp_h2OhCK3Wcc3-qImUlZkJVoa-mugvxiLEou1P88oapmsrc5Kgw70pLuNMMn2oZF5g0yKPrRC748GI7lCBmn4at1pysHShN7VUczrxxj0a3bk3Xx0Gk0dsDcsQw-cOSD-JEzpygeF4W8vq0hi0jM1fKS4x17O_lXN7d3lnHX36gOnDfs0bPJpyiTMdWM9xcKJqDI0YGQQ","p":"5SGdYaPvEbopy2614A1yezdEKVSMG_RYaMbDgsdRqqhxg2cFmBjJIaeS8eehB3xF_vcnkdWsi4DsALErPsvtCn7T-ilHF1mdYoi9Tmlvyjq0eM4JhI3UJei0XLS2vH8ep40Sj89Og6jQ7We1sUqJm5cstl8AwXJLnyGoxZmURRE","q":"u4K-ka9zmpqbKXX2ONCRrHbQ6lWX_H34CvlI6Ayyvm2EXX00oq8en8IIJQU8PUZNz1BlD9cNCzFF4y-O6jbQmIIilnRfB3ZEW4TKN5vP6eMwqhWJ6V_hENuSZGgratAXnNW-iLhub1zf5CWjbHbbfuahJ5JezcC_QvDjHFV0iVs","dp":"hDLkztT6tkummY0CuoaHqre0R_RT8j0EVU94thex8rjE5X-nJp4GTbiVe6Scr-jvqa-H0QhrSQHVKIEP5mdaGFgcjZULQ1mdCKDEOF109kTwo1KdAzGhWU3t4h8R36eoVBt8viRptGTORmsz1VqgEnkifwZJNVNwdhvBeGCnv0E","dq":"lw9McVd0fX_CMpOaqci1IsiRo8cS61GcS1Lqvi7ErQ7TjPF6PvlvZWrOXuypy_9gXfy5fhpUosiuMck1jFBemg50yNq1V_CaP1RqCISY6iaiJNO3R_B7A7awZ_1XxPQhobK8ja5vIX4jzMvZrV7Pk5s_Bv8vKvj13Hrtq_zYJnM","qi":"qYKyWyZaGVLggaWsikv5BI5IXjV7cAE9GyA5TsCjopxcOAEhf8Sn9JSvxUbdWbkAga3-jSCSGDeDEI09CituKD0H6zYyGfSYj7rcbmnme2F5sVF5lHEiEAjpztTfOEovQE61Fg_apBrQjXdIoRL-0vNvNWAIPsBGS8ZMbWipv-Y"})";
inline constexpr std::string_view kOtherEs256 =
    R"({"kty":"EC","kid":"other-es256","alg":"ES256","crv":"P-256","x":"vXgO_rtve3wN6eDlCk_8UM_Sr5BTfptw3WY-eC591CM","y":"L2u4xj-jR1Waw8w9Van8LovUzIVwcHmohW0SeZ2Q-hY","d":"U3TNrTScel2zLeX7ylagEoLzB81kKOP7-cbrxp1uM04"})";
inline constexpr std::string_view kOtherEdDsa =
    R"({"kty":"OKP","kid":"other-eddsa","alg":"EdDSA","crv":"Ed25519","x":"VNz49iGRlyaKKFKA6nAz5FpT2ngK7pGhA32QBggzIWg","d":"FTP8BvGpi4dZT5_p3uLxoa5wLTMWlnU8pVHG6spl-i8"})";


struct FuzzKeys {
  Jwk client_ps256, client_es256, client_eddsa;
  Jwk other_ps256, other_es256, other_eddsa;
  std::string client_jwks_json;  // public halves of the three client keys
  // The EC and Ed25519 client keys only: the as/ targets parse the client's JWKS on every input,
  // as the server does, and importing the RSA key costs ten times the rest of such an input.
  std::string client_fast_jwks_json;
  std::string other_jwks_json;   // public halves of the three other keys

  static const FuzzKeys& get() {
    static const FuzzKeys keys = [] {
      auto load = [](std::string_view text) {
        auto jwk = parse_jwk(text);
        if (!jwk) {
          std::abort();
        }
        return std::move(*jwk);
      };
      FuzzKeys k;
      k.client_ps256 = load(kClientPs256);
      k.client_es256 = load(kClientEs256);
      k.client_eddsa = load(kClientEdDsa);
      k.other_ps256 = load(kOtherPs256);
      k.other_es256 = load(kOtherEs256);
      k.other_eddsa = load(kOtherEdDsa);
      Jwks client;
      client.keys = {k.client_ps256, k.client_es256, k.client_eddsa};
      Jwks other;
      other.keys = {k.other_ps256, k.other_es256, k.other_eddsa};
      k.client_jwks_json = to_json_string(client);
      Jwks fast;
      fast.keys = {k.client_es256, k.client_eddsa};
      k.client_fast_jwks_json = to_json_string(fast);
      k.other_jwks_json = to_json_string(other);
      return k;
    }();
    return keys;
  }
};

// Signs `payload` with a fixed key, with the key's alg and kid and the given typ.
inline std::string sign_with(const Jwk& key, std::string_view payload, std::string_view typ = {}) {
  auto token = sign_compact(payload, *key.alg, key.key, key.kid, typ);
  if (!token) {
    std::abort();
  }
  return std::move(*token);
}

}  // namespace fapigate::jose::fuzz
