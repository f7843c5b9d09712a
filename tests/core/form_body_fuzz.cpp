// libFuzzer target: application/x-www-form-urlencoded bodies and query strings (core::parse_form,
// core::percent_decode), the parser every AS endpoint and /authorize's query go through.
// Invariants: the documented bounds hold on success (pairs, bytes), repeats are refused
// (RFC 6749 §3.1), a parsed form round-trips through form_encode, and percent_decode refuses
// exactly the malformed escapes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/strings.hpp"

namespace {

using fapigate::core::FormLimits;

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Independent of the parser: does every '%' start a two-hex-digit escape?
bool escapes_well_formed(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) {
        return false;
      }
      if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
        return false;
      }
      i += 2;
    }
  }
  return true;
}

std::size_t non_empty_pairs(std::string_view body) {
  std::size_t n = 0;
  for (auto p : fapigate::core::split(body, '&')) {
    n += p.empty() ? 0 : 1;
  }
  return n;
}

void check_form(std::string_view body, FormLimits limits) {
  auto form = fapigate::core::parse_form(body, limits);
  if (body.size() > limits.max_bytes && form) {
    std::abort();  // the byte bound comes first
  }
  if (!form) {
    return;
  }
  if (form->size() > limits.max_pairs || form->size() != non_empty_pairs(body)) {
    std::abort();  // a pair was lost, merged or counted past the bound
  }
  if (!escapes_well_formed(body)) {
    std::abort();  // a malformed escape was accepted
  }
  // Round trip: what was parsed encodes to a body that parses to the same map.
  std::vector<std::pair<std::string, std::string>> pairs(form->begin(), form->end());
  const std::string again = fapigate::core::form_encode(pairs);
  auto reparsed = fapigate::core::parse_form(again, {form->size() + 1, again.size() + 1});
  if (!reparsed || *reparsed != *form) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  // The production bounds, and tight ones so that the bound paths are reached by small inputs.
  check_form(in, FormLimits{});
  check_form(in, FormLimits{4, 64});

  for (bool plus : {false, true}) {
    auto decoded = fapigate::core::percent_decode(in, plus);
    if (decoded.has_value() != escapes_well_formed(in)) {
      std::abort();
    }
    if (decoded) {
      if (decoded->size() > in.size()) {
        std::abort();
      }
      auto back = fapigate::core::percent_decode(fapigate::core::percent_encode(*decoded), plus);
      if (!back || *back != *decoded) {
        std::abort();
      }
    }
  }
  return 0;
}
