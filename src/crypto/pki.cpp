#include "crypto/pki.hpp"

#include <cctype>

#include <openssl/pem.h>

#include "crypto/digest.hpp"
#include "crypto/ossl_ptr.hpp"
#include "crypto/x509.hpp"

namespace fapigate::crypto {

namespace {

constexpr int kMaxDays = 36500;
constexpr std::size_t kSerialBytes = 16;

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 && data != nullptr ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

// RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random bytes with the top bit cleared
// (positive without a padding byte) and the next one set (always 16 significant octets).
bool set_random_serial(X509* cert) {
  std::string bytes = random_bytes(kSerialBytes);
  bytes[0] = static_cast<char>((static_cast<unsigned char>(bytes[0]) & 0x7f) | 0x40);
  BnPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                     static_cast<int>(bytes.size()), nullptr));
  if (!bn) {
    return false;
  }
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  return serial && X509_set_serialNumber(cert, serial.get()) == 1;
}

bool add_entry(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) {
    return true;
  }
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), -1, 0) == 1;
}

// Subject in the usual most-general-first order; RFC 4514 printing reverses it to
// "CN=...,OU=...,O=...".
X509NamePtr make_name(const std::string& cn, const std::string& o, const std::string& ou) {
  X509NamePtr name(X509_NAME_new());
  if (!name || !add_entry(name.get(), "O", o) || !add_entry(name.get(), "OU", ou) ||
      !add_entry(name.get(), "CN", cn)) {
    return nullptr;
  }
  return name;
}

bool add_conf_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

bool valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  if (name.substr(0, 2) == "*.") {
    name.remove_prefix(2);  // one leading wildcard label
  }
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') || ++label > 63) {
      return false;
    }
  }
  return label > 0;
}

// Built as GENERAL_NAMEs rather than a "DNS:a,IP:b" config string, so a caller-supplied name
// can never inject another entry.
Result<GeneralNamesPtr> make_sans(const LeafOptions& options) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) {
    return CryptoErrc::Internal;
  }
  for (const std::string& dns : options.dns_names) {
    if (!valid_dns_name(dns)) {
      return CryptoErrc::InvalidArgument;
    }
    Asn1StringPtr ia5(ASN1_IA5STRING_new());
    GeneralNamePtr gn(GENERAL_NAME_new());
    if (!ia5 || !gn || ASN1_STRING_set(ia5.get(), dns.data(), static_cast<int>(dns.size())) != 1) {
      return CryptoErrc::Internal;
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, ia5.release());
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) {
      return CryptoErrc::Internal;
    }
    gn.release();
  }
  for (const std::string& ip : options.ip_addresses) {
    Asn1OctetStringPtr octets(a2i_IPADDRESS(ip.c_str()));
    if (!octets || ip.find('/') != std::string::npos) {
      ERR_clear_error();
      return CryptoErrc::InvalidArgument;
    }
    GeneralNamePtr gn(GENERAL_NAME_new());
    if (!gn) {
      return CryptoErrc::Internal;
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, octets.release());
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) {
      return CryptoErrc::Internal;
    }
    gn.release();
  }
  return names;
}

const EVP_MD* signature_md(const Key& key) {
  // Ed25519 signs the TBSCertificate directly (RFC 8410 §6): no digest.
  return key.type() == KeyType::Ed25519 ? nullptr : EVP_sha256();
}

Result<IssuedCertificate> finish(X509* cert, const Key& issuer_key, Key subject_key) {
  if (X509_sign(cert, issuer_key.get(), signature_md(issuer_key)) <= 0) {
    ERR_clear_error();
    return CryptoErrc::SignFailed;
  }
  IssuedCertificate out;
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  OsslBytesPtr owned(der);
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (len <= 0 || der == nullptr || !bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  out.der.assign(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  out.cert_pem = bio_contents(bio.get());
  out.key_pem = subject_key.private_pem();
  out.key = std::move(subject_key);
  if (out.cert_pem.empty() || out.key_pem.empty()) {
    return CryptoErrc::Internal;
  }
  return out;
}

// Version 3, random serial, validity [now + offset, now + days], subject, public key.
bool set_basics(X509* cert, const X509_NAME* subject, const X509_NAME* issuer, const Key& key,
                std::int64_t not_before_offset, int days) {
  return X509_set_version(cert, X509_VERSION_3) == 1 && set_random_serial(cert) &&
         X509_gmtime_adj(X509_getm_notBefore(cert), static_cast<long>(not_before_offset)) !=
             nullptr &&
         X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, nullptr) != nullptr &&
         X509_set_subject_name(cert, subject) == 1 && X509_set_issuer_name(cert, issuer) == 1 &&
         X509_set_pubkey(cert, key.get()) == 1;
}

X509Ptr ca_x509(const IssuedCertificate& ca) {
  const auto* p = reinterpret_cast<const unsigned char*>(ca.der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(ca.der.size())));
  if (!x) {
    ERR_clear_error();
  }
  return x;
}

Result<IssuedCertificate> issue_leaf(const IssuedCertificate& ca, const LeafOptions& options,
                                     bool server) {
  if (options.days <= 0 || options.days > kMaxDays ||
      options.not_before_offset_seconds < -86400L * kMaxDays ||
      options.not_before_offset_seconds > 86400L * kMaxDays) {
    return CryptoErrc::InvalidArgument;
  }
  if (!ca.key.is_private()) {
    return CryptoErrc::NotPrivate;
  }
  X509Ptr issuer = ca_x509(ca);
  if (!issuer) {
    return CryptoErrc::InvalidCertificate;
  }
  std::string cn = options.common_name;
  if (cn.empty() && server) {
    cn = !options.dns_names.empty()      ? options.dns_names.front()
         : !options.ip_addresses.empty() ? options.ip_addresses.front()
                                         : std::string();
  }
  if (cn.empty()) {
    return CryptoErrc::InvalidArgument;
  }
  if (server && options.dns_names.empty() && options.ip_addresses.empty()) {
    return CryptoErrc::InvalidArgument;  // RFC 6125: clients match the SAN, never the CN
  }
  auto sans = make_sans(options);
  if (!sans) {
    return sans.error();
  }
  auto key = Key::generate(options.key_type, options.rsa_bits);
  if (!key) {
    return key.error();
  }
  X509NamePtr subject = make_name(cn, options.organization, options.organizational_unit);
  X509Ptr cert(X509_new());
  if (!subject || !cert ||
      !set_basics(cert.get(), subject.get(), X509_get_subject_name(issuer.get()), *key,
                  options.not_before_offset_seconds, options.days)) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer.get(), cert.get(), nullptr, nullptr, 0);
  const bool rsa = key->type() == KeyType::Rsa;
  const char* key_usage = (server && rsa) ? "critical,digitalSignature,keyEncipherment"
                                          : "critical,digitalSignature";
  const char* aki =
      X509_get0_subject_key_id(issuer.get()) != nullptr ? "keyid:always" : "issuer:always";
  bool ok = add_conf_ext(cert.get(), &ctx, NID_basic_constraints, "CA:FALSE") &&
            add_conf_ext(cert.get(), &ctx, NID_key_usage, key_usage) &&
            add_conf_ext(cert.get(), &ctx, NID_ext_key_usage,
                         server ? "serverAuth" : "clientAuth") &&
            add_conf_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash") &&
            add_conf_ext(cert.get(), &ctx, NID_authority_key_identifier, aki);
  if (ok && sk_GENERAL_NAME_num(sans->get()) > 0) {
    ok = X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, sans->get(), 0, X509V3_ADD_DEFAULT) ==
         1;
  }
  if (!ok) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  return finish(cert.get(), ca.key, std::move(*key));
}

// A CA certificate: self-signed when parent is null, else signed by it.
Result<IssuedCertificate> make_ca(const CaOptions& options, const IssuedCertificate* parent) {
  if (options.common_name.empty() || options.days <= 0 || options.days > kMaxDays ||
      options.path_length < 0 || options.path_length > 8) {
    return CryptoErrc::InvalidArgument;
  }
  X509Ptr issuer;
  if (parent != nullptr) {
    if (!parent->key.is_private()) {
      return CryptoErrc::NotPrivate;
    }
    issuer = ca_x509(*parent);
    if (!issuer) {
      return CryptoErrc::InvalidCertificate;
    }
  }
  auto key = Key::generate(options.key_type);
  if (!key) {
    return key.error();
  }
  X509NamePtr name = make_name(options.common_name, options.organization, {});
  X509Ptr cert(X509_new());
  // A CA is backdated by the same 5 minutes as leaves by default, so a leaf issued at once is
  // never older than its issuer.
  if (!name || !cert ||
      !set_basics(cert.get(), name.get(),
                  issuer ? X509_get_subject_name(issuer.get()) : name.get(), *key, -300,
                  options.days)) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer.get() : cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::string constraints =
      "critical,CA:TRUE,pathlen:" + std::to_string(options.path_length);
  bool ok = add_conf_ext(cert.get(), &ctx, NID_basic_constraints, constraints.c_str()) &&
            add_conf_ext(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") &&
            add_conf_ext(cert.get(), &ctx, NID_subject_key_identifier, "hash") &&
            add_conf_ext(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (!ok) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  const Key signing = parent != nullptr ? parent->key : *key;
  return finish(cert.get(), signing, std::move(*key));
}

}  // namespace

Result<IssuedCertificate> issue_ca(const CaOptions& options) { return make_ca(options, nullptr); }

Result<IssuedCertificate> issue_intermediate_ca(const IssuedCertificate& parent,
                                                const CaOptions& options) {
  return make_ca(options, &parent);
}

Result<IssuedCertificate> issue_server_certificate(const IssuedCertificate& ca,
                                                   const LeafOptions& options) {
  return issue_leaf(ca, options, /*server=*/true);
}

Result<IssuedCertificate> issue_client_certificate(const IssuedCertificate& ca,
                                                   const LeafOptions& options) {
  return issue_leaf(ca, options, /*server=*/false);
}

Result<IssuedCertificate> load_ca(std::string_view cert_pem, std::string_view key_pem) {
  auto cert = parse_certificate_pem(cert_pem);
  if (!cert) {
    return cert.error();
  }
  auto key = Key::from_pem(key_pem);
  if (!key) {
    return key.error();
  }
  if (!key->is_private()) {
    return CryptoErrc::NotPrivate;
  }
  if (!key->same_public_key(cert->public_key)) {
    return CryptoErrc::InvalidKey;  // the key does not belong to this certificate
  }
  IssuedCertificate ca;
  ca.der = std::move(cert->der);
  X509Ptr x = ca_x509(ca);
  // X509_check_ca: 1 = a v3 CA with keyCertSign (or equivalent); anything else cannot issue.
  if (!x || X509_check_ca(x.get()) != 1) {
    ERR_clear_error();
    return CryptoErrc::InvalidCertificate;
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), x.get()) != 1) {
    ERR_clear_error();
    return CryptoErrc::Internal;
  }
  ca.cert_pem = bio_contents(bio.get());
  ca.key_pem = key->private_pem();
  ca.key = std::move(*key);
  return ca;
}

}  // namespace fapigate::crypto
