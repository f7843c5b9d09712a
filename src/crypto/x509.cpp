#include "crypto/x509.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cctype>
#include <ctime>
#include <optional>

#include <openssl/pem.h>

#include "crypto/digest.hpp"
#include "crypto/ossl_ptr.hpp"

namespace fapigate::crypto {

namespace {

constexpr std::size_t kMaxCertDerBytes = 64 * 1024;
constexpr std::size_t kMaxPemBytes = 1024 * 1024;

// RFC 4514 output as OpenSSL prints it, except that UTF-8 stays UTF-8 instead of being
// escaped byte by byte (\C3\A9): RFC 4514 §2.4 only requires escaping the special
// characters, and metadata such as tls_client_auth_subject_dn is written in plain UTF-8.
constexpr unsigned long kDnFlags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;

std::optional<std::string> name_to_string(const X509_NAME* name) {
  if (name == nullptr) {
    return std::nullopt;
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, kDnFlags) < 0) {
    return std::nullopt;
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  if (n < 0) {
    return std::nullopt;
  }
  return std::string(data == nullptr ? "" : data, static_cast<std::size_t>(n));
}

// Proleptic Gregorian days since 1970-01-01 (H. Hinnant's days_from_civil); avoids timegm
// and time_t range issues for GeneralizedTime past 2038.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<std::int64_t> asn1_time_to_unix(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return std::nullopt;
  }
  std::int64_t days = days_from_civil(static_cast<std::int64_t>(tm.tm_year) + 1900,
                                      static_cast<unsigned>(tm.tm_mon + 1),
                                      static_cast<unsigned>(tm.tm_mday));
  return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

// IA5String SAN values; an embedded NUL (the classic "www.bank.com\0.evil.com" trick) makes
// the whole certificate invalid rather than silently truncating.
std::optional<std::string> ia5_to_string(const ASN1_STRING* s) {
  if (s == nullptr) {
    return std::nullopt;
  }
  const unsigned char* data = ASN1_STRING_get0_data(s);
  int len = ASN1_STRING_length(s);
  if (len < 0 || (len > 0 && data == nullptr)) {
    return std::nullopt;
  }
  std::string out(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len));
  if (out.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> ip_to_string(const ASN1_OCTET_STRING* s) {
  if (s == nullptr) {
    return std::nullopt;
  }
  const unsigned char* data = ASN1_STRING_get0_data(s);
  int len = ASN1_STRING_length(s);
  char buf[INET6_ADDRSTRLEN] = {};
  if (len == 4 && inet_ntop(AF_INET, data, buf, sizeof(buf)) != nullptr) {
    return std::string(buf);
  }
  if (len == 16 && inet_ntop(AF_INET6, data, buf, sizeof(buf)) != nullptr) {
    return std::string(buf);  // RFC 5952 canonical text
  }
  return std::nullopt;  // name constraints use 8/32 bytes; a SAN IP must be 4 or 16
}

bool read_sans(X509* x, Certificate& cert) {
  int crit = -1;
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &crit, nullptr)));
  if (!names) {
    // -1: no SAN extension (fine); -2: the extension occurs more than once; otherwise it
    // failed to decode.
    return crit == -1;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn == nullptr) {
      return false;
    }
    std::optional<std::string> v;
    switch (gn->type) {
      case GEN_DNS:
        v = ia5_to_string(gn->d.dNSName);
        if (!v) {
          return false;
        }
        cert.san_dns.push_back(std::move(*v));
        break;
      case GEN_URI:
        v = ia5_to_string(gn->d.uniformResourceIdentifier);
        if (!v) {
          return false;
        }
        cert.san_uri.push_back(std::move(*v));
        break;
      case GEN_EMAIL:
        v = ia5_to_string(gn->d.rfc822Name);
        if (!v) {
          return false;
        }
        cert.san_email.push_back(std::move(*v));
        break;
      case GEN_IPADD:
        v = ip_to_string(gn->d.iPAddress);
        if (!v) {
          return false;
        }
        cert.san_ip.push_back(std::move(*v));
        break;
      default:
        break;  // otherName, dirName, ...: not used by fapigate
    }
  }
  return true;
}

std::optional<std::string> serial_hex(X509* x) {
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr));
  if (!bn) {
    return std::nullopt;
  }
  OsslCharsPtr hex(BN_bn2hex(bn.get()));
  if (!hex) {
    return std::nullopt;
  }
  std::string out(hex.get());
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Result<Certificate> view_of(X509* x, std::string_view der) {
  Certificate cert;
  cert.der.assign(der);
  auto subject = name_to_string(X509_get_subject_name(x));
  auto issuer = name_to_string(X509_get_issuer_name(x));
  auto not_before = asn1_time_to_unix(X509_get0_notBefore(x));
  auto not_after = asn1_time_to_unix(X509_get0_notAfter(x));
  auto serial = serial_hex(x);
  if (!subject || !issuer || !not_before || !not_after || !serial || !read_sans(x, cert)) {
    ERR_clear_error();
    return CryptoErrc::InvalidCertificate;
  }
  cert.subject_dn = std::move(*subject);
  cert.issuer_dn = std::move(*issuer);
  cert.not_before = *not_before;
  cert.not_after = *not_after;
  cert.serial_hex = std::move(*serial);
  // Any key the certificate carries (no size/curve policy: a partner's P-384 client
  // certificate still has a thumbprint); an algorithm OpenSSL cannot load leaves it invalid.
  if (EVP_PKEY* pkey = X509_get0_pubkey(x); pkey != nullptr && EVP_PKEY_up_ref(pkey) == 1) {
    cert.public_key = Key(pkey);
  }
  ERR_clear_error();
  return cert;
}

// One DN parsed for comparison: (lower-case attribute type, unescaped value, separator that
// follows it: ',' '+' or '\0').
struct Ava {
  std::string type;
  std::string value;
  char sep = '\0';
  bool operator==(const Ava&) const = default;
};

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string canonical_type(std::string type) {
  for (char& c : type) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  // RFC 4514 §3: a dotted OID and its short name denote the same attribute.
  static constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
      {"2.5.4.3", "cn"},   {"2.5.4.6", "c"},  {"2.5.4.7", "l"},       {"2.5.4.8", "st"},
      {"2.5.4.9", "street"}, {"2.5.4.10", "o"}, {"2.5.4.11", "ou"},
      {"0.9.2342.19200300.100.1.25", "dc"}, {"0.9.2342.19200300.100.1.1", "uid"}};
  for (const auto& [oid, name] : kAliases) {
    if (type == oid) {
      return std::string(name);
    }
  }
  return type;
}

bool is_space(char c) { return c == ' '; }

std::optional<std::vector<Ava>> parse_dn(std::string_view s) {
  std::vector<Ava> out;
  std::size_t i = 0;
  while (i < s.size()) {
    Ava ava;
    // attribute type up to '='
    std::size_t eq = s.find('=', i);
    if (eq == std::string_view::npos) {
      return std::nullopt;
    }
    std::string_view type = s.substr(i, eq - i);
    while (!type.empty() && is_space(type.front())) {
      type.remove_prefix(1);
    }
    while (!type.empty() && is_space(type.back())) {
      type.remove_suffix(1);
    }
    if (type.empty()) {
      return std::nullopt;
    }
    for (char c : type) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
        return std::nullopt;
      }
    }
    ava.type = canonical_type(std::string(type));
    i = eq + 1;
    // value up to an unescaped ',' or '+'
    while (i < s.size() && is_space(s[i])) {
      ++i;  // leading unescaped spaces
    }
    std::size_t keep = 0;  // value length that must survive trailing-space trimming
    while (i < s.size() && s[i] != ',' && s[i] != '+') {
      if (s[i] == '\\') {
        if (i + 1 >= s.size()) {
          return std::nullopt;
        }
        int hi = hexval(s[i + 1]);
        int lo = i + 2 < s.size() ? hexval(s[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
          ava.value.push_back(static_cast<char>(hi * 16 + lo));
          i += 3;
        } else {
          ava.value.push_back(s[i + 1]);
          i += 2;
        }
        keep = ava.value.size();
      } else {
        ava.value.push_back(s[i]);
        if (!is_space(s[i])) {
          keep = ava.value.size();
        }
        ++i;
      }
    }
    ava.value.resize(keep);
    if (i < s.size()) {
      ava.sep = s[i];
      ++i;
      if (i >= s.size()) {
        return std::nullopt;  // dangling separator
      }
    }
    out.push_back(std::move(ava));
  }
  return out;
}

}  // namespace

Result<Certificate> parse_certificate_der(std::string_view der) {
  if (der.empty() || der.size() > kMaxCertDerBytes) {
    return CryptoErrc::InvalidCertificate;
  }
  const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* p = begin;
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x || p != begin + der.size()) {  // trailing bytes are refused
    ERR_clear_error();
    return CryptoErrc::InvalidCertificate;
  }
  return view_of(x.get(), der);
}

Result<std::vector<Certificate>> parse_certificates_pem(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxPemBytes) {
    return CryptoErrc::InvalidCertificate;
  }
  BioPtr bio = mem_bio(pem.data(), pem.size());
  if (!bio) {
    return CryptoErrc::Internal;
  }
  std::vector<Certificate> certs;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    int ok = PEM_read_bio(bio.get(), &name, &header, &data, &len);
    OsslCharsPtr owned_name(name);
    OsslCharsPtr owned_header(header);
    OsslBytesPtr owned_data(data);
    if (ok != 1) {
      unsigned long err = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        break;  // no further PEM block
      }
      return CryptoErrc::InvalidCertificate;
    }
    if (std::string_view(name) != "CERTIFICATE") {
      continue;  // keys or other blocks beside the certificates
    }
    if (header != nullptr && header[0] != '\0') {
      return CryptoErrc::InvalidCertificate;
    }
    auto cert = parse_certificate_der(
        std::string_view(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len)));
    if (!cert) {
      return cert.error();
    }
    certs.push_back(std::move(*cert));
  }
  if (certs.empty()) {
    return CryptoErrc::InvalidCertificate;
  }
  return certs;
}

Result<Certificate> parse_certificate_pem(std::string_view pem) {
  auto certs = parse_certificates_pem(pem);
  if (!certs) {
    return certs.error();
  }
  return std::move(certs->front());
}

std::string x5t_s256(std::string_view der) { return sha256_b64url(der); }

bool subject_dn_equal(std::string_view a, std::string_view b) {
  auto pa = parse_dn(a);
  auto pb = parse_dn(b);
  // An empty DN identifies nobody; it never matches (not even another empty one).
  return pa && pb && !pa->empty() && *pa == *pb;
}

}  // namespace fapigate::crypto
