#include "jose/alg.hpp"

namespace fapigate::jose {

// Exact, case-sensitive match (RFC 7515 §4.1.1: alg is a case-sensitive string). Everything
// else, including "none", "HS256", "RS256", "ES512" and "Ed25519", has no Alg value.
std::optional<Alg> parse_alg(std::string_view name) {
  if (name == "PS256") {
    return Alg::PS256;
  }
  if (name == "ES256") {
    return Alg::ES256;
  }
  if (name == "EdDSA") {
    return Alg::EdDSA;
  }
  return std::nullopt;
}

std::string_view alg_name(Alg alg) {
  switch (alg) {
    case Alg::PS256: return "PS256";
    case Alg::ES256: return "ES256";
    case Alg::EdDSA: return "EdDSA";
  }
  return "";
}

}  // namespace fapigate::jose
