// libFuzzer target: the YAML configuration loader and its validation (config::load_string, the
// path `fapigate serve -c` and `fapigate check` take with an operator's file). Invariants: never
// an exception or crash whatever the text (yaml-cpp throws; aliases may expand), every error
// names the source, the error list is bounded, and a configuration the loader accepts also
// passes validate() on its own (the reload path re-validates a Config built in code).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string source = "fuzz.yaml";
  fapigate::config::LoadResult r;
  try {
    r = fapigate::config::load_string(in, source);
  } catch (...) {
    std::abort();  // load_string promises a LoadResult, never an exception
  }
  if (r.ok() != r.errors.empty()) {
    std::abort();
  }
  // At most kMaxIssues (100) issues plus the "too many errors" line.
  if (r.errors.size() > 101) {
    std::abort();
  }
  for (const auto& e : r.errors) {
    if (e.rfind(source, 0) != 0 || e.size() <= source.size()) {
      std::abort();  // "fuzz.yaml: key: what is wrong"
    }
  }
  if (r.ok()) {
    std::vector<std::string> again;
    try {
      again = fapigate::config::validate(r.config);
    } catch (...) {
      std::abort();
    }
    if (!again.empty()) {
      std::abort();  // accepted by the loader, refused by the validator
    }
  }
  return 0;
}
