// Password hashing for end users: scrypt (RFC 7914) through OpenSSL's EVP_KDF "SCRYPT", a
// per-user random salt, and the parameters stored with the hash so they can be raised later
// without invalidating existing users. Encoded as
//   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<base64url salt>$<base64url 32-byte key>
// Verification recomputes with the stored parameters (bounded, so a planted hash cannot make a
// login cost gigabytes) and compares in constant time. Thread-safe, no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace fapigate::as {

struct ScryptParams {
  std::uint32_t log2_n = 15;  // N = 32768: 32 MiB with r = 8 (OWASP's scrypt minimum is 2^17
                              // with r=8 at 128 MiB; 2^15 keeps a login near 100 ms on a small VM)
  std::uint32_t r = 8;
  std::uint32_t p = 1;
};

// The encoded hash of `password` with a fresh 16-byte salt from the OS CSPRNG. Fails only if
// the KDF fails (out of memory).
[[nodiscard]] Result<std::string> hash_password(std::string_view password,
                                                ScryptParams params = {});

// True when `encoded` is well-formed, its parameters within bounds (log2 N 10..20, r 1..32,
// p 1..16) and the password matches.
[[nodiscard]] bool verify_password(std::string_view password, std::string_view encoded);

// Structure and bounds only (the config check for authorization_server.users[].password_hash).
[[nodiscard]] bool password_hash_well_formed(std::string_view encoded);

}  // namespace fapigate::as
