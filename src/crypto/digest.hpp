// Digests, constant-time comparison and randomness from the OS CSPRNG (OpenSSL RAND_bytes).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fapigate::crypto {

// Raw 32-byte SHA-256 digest.
std::string sha256(std::string_view data);
// Raw 64-byte SHA-512 digest (the hash of EdDSA/Ed25519 for OIDC at_hash / c_hash / s_hash).
std::string sha512(std::string_view data);
// base64url(SHA-256(data)), the form of x5t#S256, jkt, at_hash halves aside.
std::string sha256_b64url(std::string_view data);
// First 12 hex characters of SHA-256: what logs carry in place of a token or secret.
std::string fingerprint(std::string_view secret);

// Constant-time equality (CRYPTO_memcmp); a length difference returns false at once, which
// leaks only the length.
bool constant_time_equal(std::string_view a, std::string_view b);

// n random bytes; aborts if the CSPRNG fails (there is no safe way to go on).
std::string random_bytes(std::size_t n);
// base64url of n random bytes: tokens, jti, codes.
std::string random_token(std::size_t n = 32);
// base64url of n random bytes for identifiers that are unique but not secret (jti): drawn
// from a per-thread pool of CSPRNG output instead of one RAND_bytes call each.
std::string unique_id(std::size_t n = 16);
// RFC 9562 version 4 UUID, lower case (x-fapi-interaction-id), from the same pool.
std::string uuid_v4();

}  // namespace fapigate::crypto
