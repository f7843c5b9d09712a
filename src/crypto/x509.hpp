// X.509 certificate parsing (DER/PEM) into a plain view, and the RFC 8705 §3.1 thumbprint.
// Parsing only: no chain or validity check happens here (TLS does that). Failures return
// CryptoErrc::InvalidCertificate; all functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "crypto/key.hpp"

namespace fapigate::crypto {

struct Certificate {
  std::string der;
  // RFC 4514, as OpenSSL's XN_FLAG_RFC2253 prints it, except that non-ASCII UTF-8 is left
  // as is instead of being escaped byte by byte.
  std::string subject_dn;
  std::string issuer_dn;
  // SANs by type; IPs as text (dotted IPv4, RFC 5952 IPv6). A certificate whose DNS/URI/email
  // SAN contains a NUL byte, or with two SAN extensions, is refused as a whole.
  std::vector<std::string> san_dns, san_uri, san_ip, san_email;
  std::int64_t not_before = 0;  // Unix seconds
  std::int64_t not_after = 0;
  std::string serial_hex;  // lower-case hex, no leading zero bytes
  // The key the certificate carries, with no size/curve policy applied (check key_fits before
  // using it for a JOSE algorithm); invalid if it is not RSA, EC or Ed25519.
  Key public_key;
};

// Bounded: DER over 64 KiB is refused before parsing; trailing bytes after the certificate
// are refused.
[[nodiscard]] Result<Certificate> parse_certificate_der(std::string_view der);
// The first CERTIFICATE block of a PEM text.
[[nodiscard]] Result<Certificate> parse_certificate_pem(std::string_view pem);
// Every CERTIFICATE block, in order; other PEM blocks (keys) are skipped, one malformed
// certificate fails the whole text, input over 1 MiB is refused.
[[nodiscard]] Result<std::vector<Certificate>> parse_certificates_pem(std::string_view pem);

// RFC 8705 §3.1: base64url(SHA-256(DER)) without padding.
std::string x5t_s256(std::string_view der);

// RFC 4514 DNs compared after normalising spacing around separators and attribute-type case
// (RFC 8705 §2.1.2 leaves exact comparison rules to the AS; this is the strict, common one).
// Escapes are decoded (\, and \2C are equal), dotted OIDs of common attributes equal their
// short names, values compare byte for byte (case-sensitive), RDN order matters. A malformed
// or empty DN never matches anything.
bool subject_dn_equal(std::string_view a, std::string_view b);

}  // namespace fapigate::crypto
