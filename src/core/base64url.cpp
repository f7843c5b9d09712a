#include "core/base64url.hpp"

#include <array>
#include <cstdint>

namespace fapigate::core {
namespace {

constexpr char kUrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kStdAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_table(const char* alphabet) {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) {
    v = -1;
  }
  for (int i = 0; i < 64; ++i) {
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}

constexpr auto kUrlTable = make_table(kUrlAlphabet);
constexpr auto kStdTable = make_table(kStdAlphabet);

std::string encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (std::uint32_t(std::uint8_t(in[i])) << 16) |
                      (std::uint32_t(std::uint8_t(in[i + 1])) << 8) | std::uint8_t(in[i + 2]);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    out.push_back(alphabet[v & 63]);
  }
  std::size_t rest = in.size() - i;
  if (rest == 1) {
    std::uint32_t v = std::uint32_t(std::uint8_t(in[i])) << 16;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    if (pad) {
      out += "==";
    }
  } else if (rest == 2) {
    std::uint32_t v = (std::uint32_t(std::uint8_t(in[i])) << 16) |
                      (std::uint32_t(std::uint8_t(in[i + 1])) << 8);
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(alphabet[(v >> 6) & 63]);
    if (pad) {
      out += "=";
    }
  }
  return out;
}

std::optional<std::string> decode(std::string_view in, const std::array<std::int8_t, 256>& table) {
  if (in.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    std::int8_t v = table[static_cast<unsigned char>(c)];
    if (v < 0) {
      return std::nullopt;
    }
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero, otherwise two encodings would decode to the same bytes.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) { return encode(bytes, kUrlAlphabet, false); }

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, kUrlTable);
}

std::string base64_encode(std::string_view bytes) { return encode(bytes, kStdAlphabet, true); }

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') {
    ++pad;
  }
  return decode(text.substr(0, text.size() - pad), kStdTable);
}

}  // namespace fapigate::core
