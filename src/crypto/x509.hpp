// X.509 certificate parsing (DER/PEM) into a plain view, and the RFC 8705 §3.1 thumbprint.
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
  std::string subject_dn;  // RFC 4514 (as OpenSSL's XN_FLAG_RFC2253 prints it)
  std::string issuer_dn;
  std::vector<std::string> san_dns, san_uri, san_ip, san_email;
  std::int64_t not_before = 0;  // Unix seconds
  std::int64_t not_after = 0;
  std::string serial_hex;
  Key public_key;
};

// Bounded: DER over 64 KiB is refused before parsing.
[[nodiscard]] Result<Certificate> parse_certificate_der(std::string_view der);
// The first CERTIFICATE block of a PEM text.
[[nodiscard]] Result<Certificate> parse_certificate_pem(std::string_view pem);
// Every CERTIFICATE block, in order.
[[nodiscard]] Result<std::vector<Certificate>> parse_certificates_pem(std::string_view pem);

// RFC 8705 §3.1: base64url(SHA-256(DER)) without padding.
std::string x5t_s256(std::string_view der);

// RFC 4514 DNs compared after normalising spacing around separators and attribute-type case
// (RFC 8705 §2.1.2 leaves exact comparison rules to the AS; this is the strict, common one).
bool subject_dn_equal(std::string_view a, std::string_view b);

}  // namespace fapigate::crypto
