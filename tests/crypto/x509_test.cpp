#include "crypto/x509.hpp"

#include <ctime>

#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "crypto/pki.hpp"
#include "crypto/signature.hpp"
#include "crypto_test_util.hpp"

namespace fapigate::crypto {
namespace {

using test::run_command;
using test::TempDir;

struct Fixture {
  IssuedCertificate ca;
  IssuedCertificate server;
  IssuedCertificate client;
};

const Fixture& pki() {
  static const Fixture f = [] {
    Fixture f;
    f.ca = issue_ca({}).value();
    LeafOptions server;
    server.common_name = "localhost";
    server.dns_names = {"localhost", "as.example.test"};
    server.ip_addresses = {"127.0.0.1", "::1"};
    f.server = issue_server_certificate(f.ca, server).value();
    LeafOptions client;
    client.common_name = "partner-client";
    client.organization = "Partner Bank";
    client.organizational_unit = "Payments";
    f.client = issue_client_certificate(f.ca, client).value();
    return f;
  }();
  return f;
}

std::string der_of_pem_via_cli(const TempDir& dir, const std::string& pem) {
  std::string path = dir.write("cert.pem", pem);
  return run_command("openssl x509 -in '" + path + "' -outform DER");
}

TEST(X509Parse, ServerCertificateView) {
  auto cert = parse_certificate_der(pki().server.der);
  ASSERT_TRUE(cert) << cert.error().message();
  EXPECT_EQ(cert->der, pki().server.der);
  EXPECT_EQ(cert->subject_dn, "CN=localhost,O=fapigate");
  EXPECT_EQ(cert->issuer_dn, "CN=fapigate demo CA,O=fapigate");
  EXPECT_EQ(cert->san_dns, (std::vector<std::string>{"localhost", "as.example.test"}));
  EXPECT_EQ(cert->san_ip, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_TRUE(cert->san_uri.empty());
  EXPECT_TRUE(cert->san_email.empty());
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  EXPECT_NEAR(static_cast<double>(cert->not_before), static_cast<double>(now - 300), 60.0);
  EXPECT_NEAR(static_cast<double>(cert->not_after), static_cast<double>(now + 825LL * 86400),
              60.0);
  EXPECT_EQ(cert->serial_hex.size(), 32u);
  EXPECT_TRUE(cert->public_key.valid());
  EXPECT_FALSE(cert->public_key.is_private());
  EXPECT_TRUE(cert->public_key.same_public_key(pki().server.key));
}

TEST(X509Parse, ClientCertificateSubject) {
  auto cert = parse_certificate_pem(pki().client.cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert->subject_dn, "CN=partner-client,OU=Payments,O=Partner Bank");
  EXPECT_TRUE(cert->san_dns.empty());
  EXPECT_TRUE(cert->san_ip.empty());
}

TEST(X509Parse, MatchesOpensslCliSubjectAndSerial) {
  TempDir dir;
  std::string path = dir.write("client.pem", pki().client.cert_pem);
  std::string out = run_command("openssl x509 -in '" + path +
                                "' -noout -subject -issuer -serial -nameopt RFC2253");
  auto cert = parse_certificate_pem(pki().client.cert_pem).value();
  std::string serial_upper = cert.serial_hex;
  for (char& c : serial_upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  EXPECT_NE(out.find("subject=" + cert.subject_dn + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("issuer=" + cert.issuer_dn + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("serial=" + serial_upper + "\n"), std::string::npos) << out;
}

TEST(X509Parse, ValidityMatchesOpensslCli) {
  TempDir dir;
  std::string path = dir.write("server.pem", pki().server.cert_pem);
  // -dateopt iso_8601 is 3.0+: "2024-01-01 00:00:00Z"
  std::string out = run_command("openssl x509 -in '" + path +
                                "' -noout -startdate -enddate -dateopt iso_8601");
  auto cert = parse_certificate_pem(pki().server.cert_pem).value();
  auto to_iso = [](std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", &tm);
    return std::string(buf);
  };
  EXPECT_NE(out.find("notBefore=" + to_iso(cert.not_before)), std::string::npos) << out;
  EXPECT_NE(out.find("notAfter=" + to_iso(cert.not_after)), std::string::npos) << out;
}

TEST(X509Thumbprint, MatchesOpensslCli) {
  TempDir dir;
  for (const IssuedCertificate* c : {&pki().server, &pki().client, &pki().ca}) {
    std::string path = dir.write("c.pem", c->cert_pem);
    std::string digest = run_command("openssl x509 -in '" + path +
                                     "' -outform DER | openssl dgst -sha256 -binary");
    ASSERT_EQ(digest.size(), 32u);
    EXPECT_EQ(x5t_s256(c->der), core::base64url_encode(digest));
    EXPECT_EQ(x5t_s256(c->der).size(), 43u);
  }
}

TEST(X509Thumbprint, DiffersPerCertificate) {
  EXPECT_NE(x5t_s256(pki().server.der), x5t_s256(pki().client.der));
}

TEST(X509Parse, PemDerAgreesWithCli) {
  TempDir dir;
  EXPECT_EQ(der_of_pem_via_cli(dir, pki().server.cert_pem), pki().server.der);
}

TEST(X509ParsePem, AllCertificatesInOrder) {
  std::string bundle = pki().client.key_pem + pki().client.cert_pem + "some text\n" +
                       pki().ca.cert_pem;
  auto certs = parse_certificates_pem(bundle);
  ASSERT_TRUE(certs) << certs.error().message();
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[0].der, pki().client.der);
  EXPECT_EQ((*certs)[1].der, pki().ca.der);
  auto first = parse_certificate_pem(bundle);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->der, pki().client.der);
}

TEST(X509ParsePem, RefusesGarbage) {
  EXPECT_FALSE(parse_certificate_pem(""));
  EXPECT_FALSE(parse_certificate_pem("garbage"));
  EXPECT_FALSE(parse_certificates_pem("garbage"));
  EXPECT_FALSE(parse_certificate_pem(
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"));
  EXPECT_FALSE(parse_certificate_pem(
      "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n"));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(X509ParsePem, RefusesKeyOnly) {
  auto r = parse_certificate_pem(pki().client.key_pem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidCertificate);
}

TEST(X509ParsePem, RefusesTruncatedBlock) {
  const std::string& pem = pki().server.cert_pem;
  EXPECT_FALSE(parse_certificate_pem(pem.substr(0, pem.size() - 30)));
}

TEST(X509ParsePem, OneBadCertificateSpoilsTheBundle) {
  std::string bad = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
  EXPECT_FALSE(parse_certificates_pem(pki().server.cert_pem + bad));
}

TEST(X509ParseDer, RefusesEmptyAndGarbage) {
  EXPECT_FALSE(parse_certificate_der(""));
  EXPECT_FALSE(parse_certificate_der("garbage"));
  EXPECT_FALSE(parse_certificate_der(std::string("\x30\x00", 2)));
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(X509ParseDer, RefusesTruncated) {
  const std::string& der = pki().server.der;
  EXPECT_FALSE(parse_certificate_der(der.substr(0, der.size() - 1)));
  EXPECT_FALSE(parse_certificate_der(der.substr(0, der.size() / 2)));
}

TEST(X509ParseDer, RefusesTrailingBytes) {
  EXPECT_FALSE(parse_certificate_der(pki().server.der + '\0'));
  EXPECT_FALSE(parse_certificate_der(pki().server.der + pki().server.der));
}

TEST(X509ParseDer, RefusesOversized) {
  auto r = parse_certificate_der(std::string(64 * 1024 + 1, '\x30'));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidCertificate);
}

TEST(X509ParseDer, RefusesCorruptedSignatureAlgorithmBytes) {
  std::string der = pki().server.der;
  der[1] = static_cast<char>(der[1] ^ 0x7f);  // outer length
  EXPECT_FALSE(parse_certificate_der(der));
}

// A certificate built directly with OpenSSL, to exercise shapes pki.cpp never issues.
std::string raw_cert(void (*customise)(X509*), EVP_PKEY* key) {
  X509Ptr x(X509_new());
  X509_set_version(x.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("raw"), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_set_pubkey(x.get(), key);
  customise(x.get());
  X509_sign(x.get(), key, EVP_sha256());
  unsigned char* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

void add_dns_san(X509* x, std::string_view value) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
  ASN1_STRING_set(ia5, value.data(), static_cast<int>(value.size()));
  GENERAL_NAME* gn = GENERAL_NAME_new();
  GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
  sk_GENERAL_NAME_push(names.get(), gn);
  X509_add1_ext_i2d(x, NID_subject_alt_name, names.get(), 0, X509V3_ADD_APPEND);
}

TEST(X509ParseDer, RefusesNulInDnsSan) {
  PkeyPtr key = test::raw_ec("P-256");
  std::string der = raw_cert(
      [](X509* x) { add_dns_san(x, std::string_view("bank.example\0.evil.test", 23)); },
      key.get());
  auto r = parse_certificate_der(der);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidCertificate);
}

TEST(X509ParseDer, RefusesDuplicateSanExtension) {
  PkeyPtr key = test::raw_ec("P-256");
  std::string der = raw_cert(
      [](X509* x) {
        add_dns_san(x, "a.example");
        add_dns_san(x, "b.example");
      },
      key.get());
  EXPECT_FALSE(parse_certificate_der(der));
}

TEST(X509ParseDer, UriEmailAndIpv6SansByType) {
  PkeyPtr key = test::raw_ec("P-256");
  std::string der = raw_cert(
      [](X509* x) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(
            nullptr, &ctx, NID_subject_alt_name,
            "URI:https://client.example/app,email:ops@client.example,IP:2001:db8::1,DNS:c.example");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
      },
      key.get());
  auto cert = parse_certificate_der(der);
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert->san_uri, std::vector<std::string>{"https://client.example/app"});
  EXPECT_EQ(cert->san_email, std::vector<std::string>{"ops@client.example"});
  EXPECT_EQ(cert->san_ip, std::vector<std::string>{"2001:db8::1"});
  EXPECT_EQ(cert->san_dns, std::vector<std::string>{"c.example"});
  EXPECT_EQ(cert->serial_hex, "07");
}

TEST(X509ParseDer, P384CertificateParsesButKeyDoesNotFitEs256) {
  PkeyPtr key = test::raw_ec("P-384");
  auto cert = parse_certificate_der(raw_cert([](X509*) {}, key.get()));
  ASSERT_TRUE(cert);
  ASSERT_TRUE(cert->public_key.valid());
  EXPECT_EQ(cert->public_key.type(), KeyType::Ec);
  EXPECT_FALSE(key_fits(SignatureAlg::ES256, cert->public_key));
}

TEST(X509ParseDer, Utf8AndSpecialCharactersInDn) {
  PkeyPtr key = test::raw_ec("P-256");
  std::string der = raw_cert(
      [](X509* x) {
        X509NamePtr name(X509_NAME_new());
        X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>("Z\xC3\xBCrich Bank"), -1,
                                   -1, 0);
        X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>("a,b+c"), -1, -1, 0);
        X509_set_subject_name(x, name.get());
      },
      key.get());
  auto cert = parse_certificate_der(der);
  ASSERT_TRUE(cert);
  EXPECT_EQ(cert->subject_dn, "CN=a\\,b\\+c,O=Z\xC3\xBCrich Bank");
  EXPECT_TRUE(subject_dn_equal(cert->subject_dn, "CN=a\\2Cb\\2Bc, O=Z\xC3\xBCrich Bank"));
  EXPECT_FALSE(subject_dn_equal(cert->subject_dn, "CN=a,b+c,O=Z\xC3\xBCrich Bank"));
}

TEST(SubjectDnEqual, IdenticalStrings) {
  EXPECT_TRUE(subject_dn_equal("CN=partner,O=Bank", "CN=partner,O=Bank"));
}

TEST(SubjectDnEqual, WhitespaceAroundSeparators) {
  EXPECT_TRUE(subject_dn_equal("CN=partner,O=Bank", "CN = partner , O = Bank"));
  EXPECT_TRUE(subject_dn_equal("CN=a+UID=1,O=b", "CN=a + UID=1, O=b"));
}

TEST(SubjectDnEqual, AttributeTypeCaseAndOid) {
  EXPECT_TRUE(subject_dn_equal("CN=partner,O=Bank", "cn=partner,o=Bank"));
  EXPECT_TRUE(subject_dn_equal("CN=partner,O=Bank", "2.5.4.3=partner,2.5.4.10=Bank"));
}

TEST(SubjectDnEqual, EquivalentEscapes) {
  EXPECT_TRUE(subject_dn_equal("CN=a\\,b", "CN=a\\2cb"));
  EXPECT_TRUE(subject_dn_equal("CN=a\\ ", "CN=a\\20"));
}

TEST(SubjectDnEqual, ValueCaseMatters) {
  EXPECT_FALSE(subject_dn_equal("CN=partner,O=Bank", "CN=Partner,O=Bank"));
}

TEST(SubjectDnEqual, InnerWhitespaceMatters) {
  EXPECT_FALSE(subject_dn_equal("O=Partner Bank", "O=PartnerBank"));
  EXPECT_FALSE(subject_dn_equal("O=Partner Bank", "O=Partner  Bank"));
}

TEST(SubjectDnEqual, EscapedTrailingSpaceMatters) {
  EXPECT_FALSE(subject_dn_equal("CN=a\\ ", "CN=a"));
}

TEST(SubjectDnEqual, OrderMatters) {
  EXPECT_FALSE(subject_dn_equal("CN=partner,O=Bank", "O=Bank,CN=partner"));
}

TEST(SubjectDnEqual, ExtraOrMissingRdn) {
  EXPECT_FALSE(subject_dn_equal("CN=partner,O=Bank", "CN=partner,O=Bank,C=GB"));
  EXPECT_FALSE(subject_dn_equal("CN=partner,O=Bank,C=GB", "CN=partner,O=Bank"));
  EXPECT_FALSE(subject_dn_equal("CN=partner,O=Bank", "CN=partner"));
}

TEST(SubjectDnEqual, PlusIsNotComma) {
  EXPECT_FALSE(subject_dn_equal("CN=a+O=b", "CN=a,O=b"));
}

TEST(SubjectDnEqual, EscapedSeparatorIsNotASeparator) {
  EXPECT_FALSE(subject_dn_equal("CN=a\\,O=b", "CN=a,O=b"));
  EXPECT_FALSE(subject_dn_equal("CN=a\\+O=b", "CN=a+O=b"));
}

TEST(SubjectDnEqual, DifferentAttributeType) {
  EXPECT_FALSE(subject_dn_equal("CN=partner", "OU=partner"));
  EXPECT_FALSE(subject_dn_equal("CN=partner", "C=partner"));
}

TEST(SubjectDnEqual, MalformedNeverMatches) {
  EXPECT_FALSE(subject_dn_equal("CN=a\\", "CN=a\\"));
  EXPECT_FALSE(subject_dn_equal("CN", "CN"));
  EXPECT_FALSE(subject_dn_equal("=a", "=a"));
  EXPECT_FALSE(subject_dn_equal("CN=a,", "CN=a,"));
  EXPECT_FALSE(subject_dn_equal("C N=a", "C N=a"));
}

TEST(SubjectDnEqual, EmptyNeverMatches) {
  EXPECT_FALSE(subject_dn_equal("", ""));
  EXPECT_FALSE(subject_dn_equal("CN=a", ""));
}

}  // namespace
}  // namespace fapigate::crypto
