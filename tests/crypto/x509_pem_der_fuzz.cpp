// libFuzzer target: X.509 parsing of outside certificates (crypto::parse_certificate_der /
// _pem / parse_certificates_pem: client certificates, registration jwks x5c, CA bundles) and
// RFC 4514 DN comparison (crypto::subject_dn_equal, tls_client_auth's subject match).
// The first byte selects the entry point. Invariants: the size bounds hold, DER that parses is
// the whole input (no trailing bytes), the same certificate parses identically from DER and
// from PEM, the thumbprint is RFC 8705 §3.1's, no SAN carries a NUL, and the DN comparison is
// symmetric and reflexive on what parses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/base64url.hpp"
#include "crypto/digest.hpp"
#include "crypto/x509.hpp"

namespace {

namespace crypto = fapigate::crypto;

bool has_nul(const std::vector<std::string>& v) {
  for (const auto& s : v) {
    if (s.find('\0') != std::string::npos) {
      return true;
    }
  }
  return false;
}

bool same_view(const crypto::Certificate& a, const crypto::Certificate& b) {
  return a.der == b.der && a.subject_dn == b.subject_dn && a.issuer_dn == b.issuer_dn &&
         a.san_dns == b.san_dns && a.san_uri == b.san_uri && a.san_ip == b.san_ip &&
         a.san_email == b.san_email && a.not_before == b.not_before && a.not_after == b.not_after &&
         a.serial_hex == b.serial_hex;
}

std::string to_pem(std::string_view der) {
  const std::string b64 = fapigate::core::base64_encode(der);
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    pem.append(b64, i, 64).append("\n");
  }
  return pem + "-----END CERTIFICATE-----\n";
}

// Checks one parsed view; `reparse` also sends it round the PEM encoder (once per view).
void check_view(const crypto::Certificate& c, bool reparse) {
  if (c.der.empty() || c.der.size() > 64 * 1024) {
    std::abort();
  }
  const std::string x5t = crypto::x5t_s256(c.der);
  if (x5t.size() != 43 || x5t != crypto::sha256_b64url(c.der) ||
      x5t != fapigate::core::base64url_encode(crypto::sha256(c.der))) {
    std::abort();
  }
  if (has_nul(c.san_dns) || has_nul(c.san_uri) || has_nul(c.san_email)) {
    std::abort();
  }
  const std::string_view serial(c.serial_hex);
  if (serial.empty()) {
    std::abort();
  }
  for (std::size_t i = 0; i < serial.size(); ++i) {
    const char ch = serial[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch == '-' && i == 0))) {
      std::abort();
    }
  }
  if (!reparse) {
    return;
  }
  auto again = crypto::parse_certificate_der(c.der);
  if (!again || !same_view(c, *again)) {
    std::abort();
  }
  auto from_pem = crypto::parse_certificate_pem(to_pem(c.der));
  if (!from_pem || !same_view(c, *from_pem)) {
    std::abort();
  }
  // tls_client_auth registers the subject DN as OpenSSL prints it (RFC 8705 §2.1.2): the
  // certificate must match its own printed subject, or that client can never authenticate.
  if (!c.subject_dn.empty() && !crypto::subject_dn_equal(c.subject_dn, c.subject_dn)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto c = crypto::parse_certificate_der(in);
      if (c) {
        if (c->der != in) {
          std::abort();  // trailing bytes, or a certificate made up of part of the input
        }
        check_view(*c, true);
      }
      break;
    }
    case 1: {
      auto c = crypto::parse_certificate_pem(in);
      if (c) {
        check_view(*c, true);
      }
      break;
    }
    case 2: {
      auto certs = crypto::parse_certificates_pem(in);
      if (certs) {
        if (certs->empty() || in.size() > 1024 * 1024) {
          std::abort();
        }
        auto first = crypto::parse_certificate_pem(in);
        if (!first || !same_view(*first, certs->front())) {
          std::abort();
        }
        for (const auto& c : *certs) {
          check_view(c, false);
        }
      }
      break;
    }
    default: {
      const auto nl = in.find('\n');
      const std::string_view a = in.substr(0, nl);
      const std::string_view b =
          nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
      const bool ab = crypto::subject_dn_equal(a, b);
      if (ab != crypto::subject_dn_equal(b, a)) {
        std::abort();
      }
      if (ab && !crypto::subject_dn_equal(a, a)) {
        std::abort();  // equal to something else, but not to itself
      }
      if (a.empty() && ab) {
        std::abort();  // an empty DN never matches
      }
      break;
    }
  }
  return 0;
}
