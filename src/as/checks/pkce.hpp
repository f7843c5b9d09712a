// PKCE (RFC 7636) as FAPI requires it: S256 only (FAPI 2.0 SP §5.3.2.2-5, FAPI 1.0 Part 2
// §5.2.2-18). The authorization side checks the challenge when the request is pushed or
// received; the token side checks the verifier against the stored challenge. Pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "as/oauth_error.hpp"

namespace fapigate::as {

// RFC 7636 §4.1: 43..128 characters of [A-Za-z0-9-._~].
[[nodiscard]] bool pkce_verifier_syntax_ok(std::string_view verifier);

// RFC 7636 §4.2: a S256 challenge is base64url(SHA-256(verifier)) without padding, so exactly
// 43 base64url characters.
[[nodiscard]] bool pkce_challenge_syntax_ok(std::string_view challenge);

// The token endpoint's check (RFC 7636 §4.6): the verifier has the §4.1 syntax and
// base64url(SHA-256(ASCII(verifier))) equals the stored challenge (constant-time compare).
// False for an empty or malformed verifier or challenge; the caller answers invalid_grant.
[[nodiscard]] bool pkce_s256_matches(std::string_view challenge, std::string_view verifier);

// The authorization request's check: code_challenge present and well-formed, and
// code_challenge_method exactly "S256" (RFC 7636 §4.3; plain or absent is refused, F2-18,
// F1-10). invalid_request otherwise (RFC 7636 §4.4.1).
[[nodiscard]] std::optional<OAuthError> check_pkce_challenge(
    std::optional<std::string_view> challenge, std::optional<std::string_view> method);

}  // namespace fapigate::as
