#include "core/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace fapigate::core {
namespace {

constexpr std::size_t kMaxAddressText = 64;  // longer than any IPv6 text form

std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view text, bool& v4) {
  if (text.empty() || text.size() > kMaxAddressText) {
    return std::nullopt;
  }
  if (text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  // inet_pton reads a C string: "10.0.0.1\0junk" would parse as 10.0.0.1 and the rest go
  // unseen. Found by tests/gateway/gateway_headers_fuzz.cpp (tests/fuzz/regressions/
  // gateway_headers/cidr_nul_truncation).
  if (text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string s(text);
  std::array<std::uint8_t, 16> out{};
  in_addr a4{};
  if (::inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    v4 = true;
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &a4, 4);
    return out;
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    v4 = false;
    std::memcpy(out.data(), &a6, 16);
    return out;
  }
  return std::nullopt;
}

bool prefix_equal(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b,
                  unsigned bits) {
  unsigned full = bits / 8;
  if (std::memcmp(a.data(), b.data(), full) != 0) {
    return false;
  }
  unsigned rest = bits % 8;
  if (rest == 0) {
    return true;
  }
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

std::optional<Cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  bool v4 = false;
  auto addr = parse_address(text.substr(0, slash), v4);
  if (!addr) {
    return std::nullopt;
  }
  unsigned max_bits = v4 ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) {
      return std::nullopt;
    }
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), bits);
    if (ec != std::errc() || end != p.data() + p.size() || bits > max_bits) {
      return std::nullopt;
    }
  }
  Cidr c;
  c.address = *addr;
  c.prefix_bits = v4 ? bits + 96 : bits;
  // Host bits set ("10.0.0.1/8") is almost always a typo for a wider or narrower range.
  std::array<std::uint8_t, 16> zero_host{};
  for (unsigned i = 0; i < 16; ++i) {
    unsigned lo = i * 8;
    if (lo + 8 <= c.prefix_bits) {
      zero_host[i] = c.address[i];
    } else if (lo < c.prefix_bits) {
      zero_host[i] =
          static_cast<std::uint8_t>(c.address[i] & (0xff << (8 - (c.prefix_bits - lo))));
    }
  }
  if (zero_host != c.address) {
    return std::nullopt;
  }
  return c;
}

bool CidrSet::contains(std::string_view address) const {
  bool v4 = false;
  auto a = parse_address(address, v4);
  if (!a) {
    return false;
  }
  for (const auto& r : ranges_) {
    if (prefix_equal(*a, r.address, r.prefix_bits)) {
      return true;
    }
  }
  return false;
}

}  // namespace fapigate::core
