// The JOSE algorithm allow-list. Only these three exist for fapigate (FAPI 2.0 SP §5.4.1,
// FAPI 1.0 Part 2 §8.6); "none" and every HMAC algorithm are refused by construction because
// they cannot be named.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "crypto/signature.hpp"

namespace fapigate::jose {

using Alg = crypto::SignatureAlg;

std::optional<Alg> parse_alg(std::string_view name);
std::string_view alg_name(Alg alg);

using AlgList = std::vector<Alg>;
inline const AlgList kAllAlgs{Alg::PS256, Alg::ES256, Alg::EdDSA};

}  // namespace fapigate::jose
