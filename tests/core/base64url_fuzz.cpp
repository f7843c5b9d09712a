// libFuzzer target for base64url and base64 (core/base64url.hpp), the first decoder every JOSE
// segment and RFC 9440 certificate meets. Seeds: tests/fuzz/corpus/base64url. Invariants, each
// an abort: decoding is strict, so a text that decodes is the one encoding of its bytes
// (encode(decode(t)) == t), and any bytes encode to a text that decodes back to them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base64url.hpp"
#include "fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fapigate::core;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto bytes = base64url_decode(in)) {
    FAPI_FUZZ_CHECK(bytes->size() == in.size() * 3 / 4);
    FAPI_FUZZ_CHECK(base64url_encode(*bytes) == in);
  }
  if (auto bytes = base64_decode(in)) {
    FAPI_FUZZ_CHECK(base64_encode(*bytes) == in);
  }
  auto back = base64url_decode(base64url_encode(in));
  FAPI_FUZZ_CHECK(back && *back == in);
  auto back_std = base64_decode(base64_encode(in));
  FAPI_FUZZ_CHECK(back_std && *back_std == in);
  return 0;
}
