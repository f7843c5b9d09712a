// IP address ranges in CIDR notation ("10.0.0.0/8", "::1/128", or a bare address), for trusted
// proxy lists. An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) matches the IPv4 ranges. Thread-safe
// (immutable after parsing).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace fapigate::core {

struct Cidr {
  std::array<std::uint8_t, 16> address{};  // IPv4 as ::ffff:a.b.c.d
  unsigned prefix_bits = 0;                // over the 128-bit form
};

// nullopt when not an IPv4/IPv6 address with an optional /prefix in range, or host bits set.
std::optional<Cidr> parse_cidr(std::string_view text);

class CidrSet {
public:
  CidrSet() = default;
  explicit CidrSet(std::vector<Cidr> ranges) : ranges_(std::move(ranges)) {}
  // Unparsable address (or empty set): false.
  bool contains(std::string_view address) const;
  bool empty() const { return ranges_.empty(); }

private:
  std::vector<Cidr> ranges_;
};

}  // namespace fapigate::core
