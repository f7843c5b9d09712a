#include "as/checks/pkce.hpp"

#include "crypto/digest.hpp"

namespace fapigate::as {
namespace {

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

bool pkce_verifier_syntax_ok(std::string_view verifier) {
  if (verifier.size() < 43 || verifier.size() > 128) {
    return false;
  }
  for (char c : verifier) {
    if (!unreserved(c)) {
      return false;
    }
  }
  return true;
}

bool pkce_challenge_syntax_ok(std::string_view challenge) {
  if (challenge.size() != 43) {
    return false;
  }
  for (char c : challenge) {
    if (!base64url_char(c)) {
      return false;
    }
  }
  return true;
}

bool pkce_s256_matches(std::string_view challenge, std::string_view verifier) {
  if (!pkce_challenge_syntax_ok(challenge) || !pkce_verifier_syntax_ok(verifier)) {
    return false;
  }
  return crypto::constant_time_equal(crypto::sha256_b64url(verifier), challenge);
}

std::optional<OAuthError> check_pkce_challenge(std::optional<std::string_view> challenge,
                                               std::optional<std::string_view> method) {
  if (!challenge || challenge->empty()) {
    return oauth_error(OAuthErrc::InvalidRequest, "code_challenge is required (PKCE, S256)");
  }
  if (!method || *method != "S256") {
    // RFC 7636 §4.3 defaults an absent method to plain, which FAPI forbids.
    return oauth_error(OAuthErrc::InvalidRequest, "code_challenge_method must be S256");
  }
  if (!pkce_challenge_syntax_ok(*challenge)) {
    return oauth_error(OAuthErrc::InvalidRequest,
                       "code_challenge must be 43 base64url characters (S256)");
  }
  return std::nullopt;
}

}  // namespace fapigate::as
