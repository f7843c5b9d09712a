// Small string helpers shared by the HTTP-facing modules.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fapigate::core {

bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);
// The parts split() would return, handed to fn one by one without building a vector (for the
// per-request paths); fn returns false to stop early. Returns false if fn stopped it.
template <class Fn>
bool for_each_part(std::string_view s, char sep, Fn&& fn) {
  for (;;) {
    const auto pos = s.find(sep);
    if (!fn(s.substr(0, pos))) {
      return false;
    }
    if (pos == std::string_view::npos) {
      return true;
    }
    s.remove_prefix(pos + 1);
  }
}
// Space-delimited OAuth lists (scope, RFC 6749 §3.3): empty items are dropped.
std::vector<std::string> split_scopes(std::string_view s);
// The inverse: values joined by single spaces (a scope string, a stored audience list).
std::string space_joined(const std::vector<std::string>& values);

// application/x-www-form-urlencoded (WHATWG URL §5) with bounds: more than max_pairs pairs, a
// malformed percent escape, or a repeated name (RFC 6749 §3.1: parameters MUST NOT be included
// more than once) gives nullopt, the caller answers invalid_request.
struct FormLimits {
  std::size_t max_pairs = 64;
  std::size_t max_bytes = 64 * 1024;
};
std::optional<std::map<std::string, std::string>> parse_form(std::string_view body,
                                                             FormLimits limits = {});
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);
std::string percent_encode(std::string_view s);
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& pairs);

// Hex of the first n bytes of SHA-256 is what logs carry instead of a secret; this is only the
// hex part, the digest comes from crypto/.
std::string hex(std::string_view bytes);

}  // namespace fapigate::core
