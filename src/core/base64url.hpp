// base64url without padding (RFC 4648 §5), as JOSE uses it (RFC 7515 §2). Decoding is strict:
// padding, whitespace, characters outside the alphabet and non-zero trailing bits are refused,
// so one token has exactly one encoding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fapigate::core {

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// Standard base64 with padding (RFC 4648 §4), used by PEM and by RFC 9440 byte sequences.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace fapigate::core
