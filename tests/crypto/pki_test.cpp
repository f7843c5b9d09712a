#include "crypto/pki.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "crypto/x509.hpp"
#include "crypto_test_util.hpp"
#include "support/test_pki.hpp"

namespace fapigate::crypto {
namespace {

using test::run_command;
using test::TempDir;

X509Ptr to_x509(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

// OpenSSL's own chain verification (what a TLS peer does), leaf against one trusted CA.
int verify_chain(const IssuedCertificate& ca, const IssuedCertificate& leaf,
                 int purpose = X509_PURPOSE_SSL_SERVER, const std::string& host = {},
                 const std::string& ip = {}) {
  X509StorePtr store(X509_STORE_new());
  X509Ptr ca_x = to_x509(ca.der);
  X509Ptr leaf_x = to_x509(leaf.der);
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ca_x || !leaf_x || !ctx || X509_STORE_add_cert(store.get(), ca_x.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf_x.get(), nullptr) != 1) {
    return -100;
  }
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  if (!host.empty()) {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  }
  if (!ip.empty()) {
    X509_VERIFY_PARAM_set1_ip_asc(param, ip.c_str());
  }
  int ok = X509_verify_cert(ctx.get());
  int err = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  return ok == 1 ? X509_V_OK : (err == X509_V_OK ? -1 : err);
}

// As verify_chain, with intermediates the peer would send (untrusted, RFC 5280 §6).
int verify_through(const IssuedCertificate& root, const IssuedCertificate& intermediate,
                   const IssuedCertificate& leaf) {
  X509StorePtr store(X509_STORE_new());
  X509Ptr root_x = to_x509(root.der);
  X509Ptr mid_x = to_x509(intermediate.der);
  X509Ptr leaf_x = to_x509(leaf.der);
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  int result = -100;
  if (store && root_x && mid_x && leaf_x && untrusted && ctx &&
      X509_STORE_add_cert(store.get(), root_x.get()) == 1 &&
      sk_X509_push(untrusted, mid_x.get()) > 0 &&
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf_x.get(), untrusted) == 1) {
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
    const int ok = X509_verify_cert(ctx.get());
    const int err = X509_STORE_CTX_get_error(ctx.get());
    result = ok == 1 ? X509_V_OK : (err == X509_V_OK ? -1 : err);
  }
  sk_X509_free(untrusted);
  ERR_clear_error();
  return result;
}

LeafOptions server_options() {
  LeafOptions o;
  o.common_name = "localhost";
  o.dns_names = {"localhost"};
  o.ip_addresses = {"127.0.0.1", "::1"};
  return o;
}

LeafOptions client_options(std::string cn = "partner-client") {
  LeafOptions o;
  o.common_name = std::move(cn);
  o.organization = "Partner Bank";
  o.organizational_unit = "Payments";
  return o;
}

const IssuedCertificate& ca() {
  static const IssuedCertificate c = issue_ca({}).value();
  return c;
}

const IssuedCertificate& other_ca() {
  static const IssuedCertificate c = [] {
    CaOptions o;
    o.common_name = "fapigate demo CA";  // same name, different key
    return issue_ca(o).value();
  }();
  return c;
}

int has_ext_critical(const std::string& der, int nid) {
  X509Ptr x = to_x509(der);
  int idx = X509_get_ext_by_NID(x.get(), nid, -1);
  if (idx < 0) {
    return -1;
  }
  return X509_EXTENSION_get_critical(X509_get_ext(x.get(), idx));
}

TEST(PkiCa, IsASelfSignedV3Ca) {
  X509Ptr x = to_x509(ca().der);
  ASSERT_TRUE(x);
  EXPECT_EQ(X509_get_version(x.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(x.get()), 1);
  EXPECT_EQ(X509_verify(x.get(), X509_get0_pubkey(x.get())), 1);
  EXPECT_EQ(has_ext_critical(ca().der, NID_basic_constraints), 1);
  EXPECT_EQ(has_ext_critical(ca().der, NID_key_usage), 1);
  EXPECT_GE(has_ext_critical(ca().der, NID_subject_key_identifier), 0);
  EXPECT_EQ(X509_get_key_usage(x.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  auto view = parse_certificate_der(ca().der);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->subject_dn, view->issuer_dn);
  EXPECT_TRUE(ca().key.is_private());
  EXPECT_TRUE(view->public_key.same_public_key(ca().key));
}

TEST(PkiIntermediate, ALeafVerifiesThroughAnIssuingCaBelowTheRoot) {
  CaOptions root_options;
  root_options.common_name = "directory root";
  root_options.path_length = 1;
  auto root = issue_ca(root_options);
  ASSERT_TRUE(root);
  CaOptions issuing_options;
  issuing_options.common_name = "directory issuing CA";
  auto issuing = issue_intermediate_ca(*root, issuing_options);
  ASSERT_TRUE(issuing) << issuing.error().message();
  auto leaf = issue_client_certificate(*issuing, client_options());
  ASSERT_TRUE(leaf);
  auto issuing_x = to_x509(issuing->der);
  ASSERT_TRUE(issuing_x);
  EXPECT_EQ(X509_check_ca(issuing_x.get()), 1);
  EXPECT_EQ(X509_check_issued(to_x509(root->der).get(), issuing_x.get()), X509_V_OK);
  EXPECT_EQ(verify_through(*root, *issuing, *leaf), X509_V_OK);
  // Without the intermediate the leaf does not chain to the root.
  EXPECT_NE(verify_chain(*root, *leaf, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  // A root with pathlen 0 (issue_ca's default) may not have CAs below it (RFC 5280 §4.2.1.9).
  auto flat_root = issue_ca(CaOptions{});
  ASSERT_TRUE(flat_root);
  auto below_flat = issue_intermediate_ca(*flat_root, issuing_options);
  ASSERT_TRUE(below_flat);
  auto leaf2 = issue_client_certificate(*below_flat, client_options());
  ASSERT_TRUE(leaf2);
  EXPECT_EQ(verify_through(*flat_root, *below_flat, *leaf2), X509_V_ERR_PATH_LENGTH_EXCEEDED);
}

TEST(PkiIntermediate, RefusesBadOptionsAndAPublicOnlyParent) {
  auto root = issue_ca(CaOptions{});
  ASSERT_TRUE(root);
  CaOptions bad;
  bad.path_length = -1;
  EXPECT_FALSE(issue_intermediate_ca(*root, bad));
  bad.path_length = 0;
  bad.common_name.clear();
  EXPECT_FALSE(issue_intermediate_ca(*root, bad));
  IssuedCertificate public_only = *root;
  public_only.key = root->key.public_only();
  EXPECT_FALSE(issue_intermediate_ca(public_only, CaOptions{}));
}

TEST(PkiServer, VerifiesAgainstCaForHostAndIps) {
  auto leaf = issue_server_certificate(ca(), server_options());
  ASSERT_TRUE(leaf) << leaf.error().message();
  EXPECT_EQ(verify_chain(ca(), *leaf), X509_V_OK);
  EXPECT_EQ(verify_chain(ca(), *leaf, X509_PURPOSE_SSL_SERVER, "localhost", ""), X509_V_OK);
  EXPECT_EQ(verify_chain(ca(), *leaf, X509_PURPOSE_SSL_SERVER, "", "127.0.0.1"), X509_V_OK);
  EXPECT_EQ(verify_chain(ca(), *leaf, X509_PURPOSE_SSL_SERVER, "", "::1"), X509_V_OK);
}

TEST(PkiServer, ExtensionsAreLeafServerAuth) {
  auto leaf = issue_server_certificate(ca(), server_options()).value();
  X509Ptr x = to_x509(leaf.der);
  EXPECT_EQ(X509_check_ca(x.get()), 0);
  EXPECT_EQ(X509_get_extended_key_usage(x.get()), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_GE(has_ext_critical(leaf.der, NID_authority_key_identifier), 0);
  EXPECT_GE(has_ext_critical(leaf.der, NID_subject_key_identifier), 0);
  EXPECT_GE(has_ext_critical(leaf.der, NID_basic_constraints), 0);
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(x.get());
  X509Ptr ca_x = to_x509(ca().der);
  ASSERT_NE(aki, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(ca_x.get())), 0);
}

TEST(PkiServer, FailsAgainstAnotherCa) {
  auto leaf = issue_server_certificate(ca(), server_options()).value();
  EXPECT_NE(verify_chain(other_ca(), leaf), X509_V_OK);
}

TEST(PkiServer, FailsForOtherHostOrIp) {
  auto leaf = issue_server_certificate(ca(), server_options()).value();
  EXPECT_EQ(verify_chain(ca(), leaf, X509_PURPOSE_SSL_SERVER, "evil.test", ""),
            X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(verify_chain(ca(), leaf, X509_PURPOSE_SSL_SERVER, "", "127.0.0.2"),
            X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST(PkiServer, NotUsableAsClientCertificate) {
  auto leaf = issue_server_certificate(ca(), server_options()).value();
  EXPECT_EQ(verify_chain(ca(), leaf, X509_PURPOSE_SSL_CLIENT), X509_V_ERR_INVALID_PURPOSE);
}

TEST(PkiServer, RsaAndEd25519Keys) {
  for (KeyType t : {KeyType::Rsa, KeyType::Ed25519}) {
    LeafOptions o = server_options();
    o.key_type = t;
    auto leaf = issue_server_certificate(ca(), o);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf->key.type(), t);
    EXPECT_EQ(verify_chain(ca(), *leaf, X509_PURPOSE_SSL_SERVER, "localhost", ""), X509_V_OK);
  }
}

TEST(PkiServer, RsaAndEd25519Cas) {
  for (KeyType t : {KeyType::Rsa, KeyType::Ed25519}) {
    CaOptions co;
    co.key_type = t;
    auto c = issue_ca(co);
    ASSERT_TRUE(c) << c.error().message();
    auto leaf = issue_server_certificate(*c, server_options());
    ASSERT_TRUE(leaf) << leaf.error().message();
    EXPECT_EQ(verify_chain(*c, *leaf), X509_V_OK);
    EXPECT_NE(verify_chain(ca(), *leaf), X509_V_OK);
  }
}

TEST(PkiServer, CommonNameDefaultsToFirstDnsName) {
  LeafOptions o = server_options();
  o.common_name.clear();
  o.dns_names = {"gw.example.test"};
  auto leaf = issue_server_certificate(ca(), o).value();
  EXPECT_EQ(parse_certificate_der(leaf.der)->subject_dn, "CN=gw.example.test,O=fapigate");
}

TEST(PkiServer, RefusesWithoutSubjectAltNames) {
  LeafOptions o;
  o.common_name = "localhost";
  auto r = issue_server_certificate(ca(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidArgument);
}

TEST(PkiServer, RefusesMalformedDnsNames) {
  for (const char* bad : {"", "bad name", "a,DNS:evil.test", "a..b", ".a", "a.", "a/b",
                          "x\nDNS:evil"}) {
    LeafOptions o = server_options();
    o.dns_names = {bad};
    auto r = issue_server_certificate(ca(), o);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), CryptoErrc::InvalidArgument) << bad;
  }
}

TEST(PkiServer, RefusesMalformedIps) {
  for (const char* bad : {"", "999.1.1.1", "localhost", "1.2.3", "::g", "10.0.0.0/8"}) {
    LeafOptions o = server_options();
    o.ip_addresses = {bad};
    auto r = issue_server_certificate(ca(), o);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), CryptoErrc::InvalidArgument) << bad;
  }
}

TEST(PkiServer, RefusesBadValidity) {
  LeafOptions o = server_options();
  o.days = 0;
  EXPECT_FALSE(issue_server_certificate(ca(), o));
  o.days = -5;
  EXPECT_FALSE(issue_server_certificate(ca(), o));
  o.days = 1000000;
  EXPECT_FALSE(issue_server_certificate(ca(), o));
}

TEST(PkiServer, RefusesSmallRsaLeaf) {
  LeafOptions o = server_options();
  o.key_type = KeyType::Rsa;
  o.rsa_bits = 1024;
  auto r = issue_server_certificate(ca(), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::KeyTooSmall);
}

TEST(PkiServer, RefusesCaWithoutPrivateKey) {
  IssuedCertificate pub_ca = ca();
  pub_ca.key = ca().key.public_only();
  auto r = issue_server_certificate(pub_ca, server_options());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::NotPrivate);
}

TEST(PkiServer, RefusesCaWithGarbageCertificate) {
  IssuedCertificate broken = ca();
  broken.der = "garbage";
  auto r = issue_server_certificate(broken, server_options());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidCertificate);
}

TEST(PkiServer, NotYetValidWhenOffsetInFuture) {
  LeafOptions o = server_options();
  o.not_before_offset_seconds = 86400;
  auto leaf = issue_server_certificate(ca(), o).value();
  EXPECT_EQ(verify_chain(ca(), leaf), X509_V_ERR_CERT_NOT_YET_VALID);
}

TEST(PkiClient, VerifiesAgainstCaAsClient) {
  auto leaf = issue_client_certificate(ca(), client_options());
  ASSERT_TRUE(leaf) << leaf.error().message();
  EXPECT_EQ(verify_chain(ca(), *leaf, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  X509Ptr x = to_x509(leaf->der);
  EXPECT_EQ(X509_get_extended_key_usage(x.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
}

TEST(PkiClient, FailsAgainstAnotherCa) {
  auto leaf = issue_client_certificate(ca(), client_options()).value();
  EXPECT_NE(verify_chain(other_ca(), leaf, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST(PkiClient, NotUsableAsServerCertificate) {
  auto leaf = issue_client_certificate(ca(), client_options()).value();
  EXPECT_EQ(verify_chain(ca(), leaf, X509_PURPOSE_SSL_SERVER), X509_V_ERR_INVALID_PURPOSE);
}

TEST(PkiClient, SubjectAndOptionalSans) {
  LeafOptions o = client_options();
  o.dns_names = {"partner.example"};
  auto leaf = issue_client_certificate(ca(), o).value();
  auto view = parse_certificate_der(leaf.der).value();
  EXPECT_EQ(view.subject_dn, "CN=partner-client,OU=Payments,O=Partner Bank");
  EXPECT_EQ(view.san_dns, std::vector<std::string>{"partner.example"});
  EXPECT_TRUE(subject_dn_equal(view.subject_dn, "CN=partner-client, OU=Payments, O=Partner Bank"));
}

TEST(PkiClient, RefusesEmptyCommonName) {
  auto r = issue_client_certificate(ca(), client_options(""));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidArgument);
}

TEST(PkiClient, SerialsAreRandomPositiveAndDistinct) {
  auto a = parse_certificate_der(issue_client_certificate(ca(), client_options())->der).value();
  auto b = parse_certificate_der(issue_client_certificate(ca(), client_options())->der).value();
  EXPECT_NE(a.serial_hex, b.serial_hex);
  EXPECT_EQ(a.serial_hex.size(), 32u);
  EXPECT_NE(a.serial_hex[0], '-');
  EXPECT_NE(x5t_s256(a.der), x5t_s256(b.der));
}

TEST(PkiClient, KeyPemLoadsAndMatchesCertificate) {
  auto leaf = issue_client_certificate(ca(), client_options()).value();
  auto key = Key::from_pem(leaf.key_pem);
  ASSERT_TRUE(key);
  EXPECT_TRUE(key->same_public_key(leaf.key));
  EXPECT_TRUE(parse_certificate_pem(leaf.cert_pem)->public_key.same_public_key(*key));
}

TEST(PkiLoadCa, RoundTripIssuesVerifiableLeaves) {
  auto loaded = load_ca(ca().cert_pem, ca().key_pem);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->der, ca().der);
  auto leaf = issue_client_certificate(*loaded, client_options()).value();
  EXPECT_EQ(verify_chain(ca(), leaf, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST(PkiLoadCa, RefusesMismatchedKey) {
  auto r = load_ca(ca().cert_pem, other_ca().key_pem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidKey);
}

TEST(PkiLoadCa, RefusesLeafCertificate) {
  auto leaf = issue_client_certificate(ca(), client_options()).value();
  auto r = load_ca(leaf.cert_pem, leaf.key_pem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::InvalidCertificate);
}

TEST(PkiLoadCa, RefusesPublicKeyOnly) {
  auto r = load_ca(ca().cert_pem, ca().key.public_pem());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), CryptoErrc::NotPrivate);
}

TEST(PkiLoadCa, RefusesGarbage) {
  EXPECT_FALSE(load_ca("garbage", ca().key_pem));
  EXPECT_FALSE(load_ca(ca().cert_pem, "garbage"));
  EXPECT_FALSE(load_ca("", ""));
}

TEST(PkiCa, RefusesBadOptions) {
  CaOptions o;
  o.common_name.clear();
  EXPECT_FALSE(issue_ca(o));
  o = {};
  o.days = 0;
  EXPECT_FALSE(issue_ca(o));
}

// The CLI agrees: `openssl verify` accepts the chain with the TLS purposes.
TEST(PkiCli, OpensslVerifyAcceptsIssuedChain) {
  TempDir dir;
  std::string ca_path = dir.write("ca.pem", ca().cert_pem);
  std::string server_path =
      dir.write("server.pem", issue_server_certificate(ca(), server_options())->cert_pem);
  std::string client_path =
      dir.write("client.pem", issue_client_certificate(ca(), client_options())->cert_pem);
  std::string other_path = dir.write("other.pem", other_ca().cert_pem);
  EXPECT_NE(run_command("openssl verify -CAfile '" + ca_path +
                        "' -purpose sslserver -verify_hostname localhost -verify_ip 127.0.0.1 '" +
                        server_path + "' 2>&1")
                .find(": OK"),
            std::string::npos);
  EXPECT_NE(run_command("openssl verify -CAfile '" + ca_path + "' -purpose sslclient '" +
                        client_path + "' 2>&1")
                .find(": OK"),
            std::string::npos);
  // run_command returns "" when the command fails.
  EXPECT_EQ(run_command("openssl verify -CAfile '" + other_path + "' '" + server_path + "' 2>&1"),
            "");
}

TEST(TestSupportPki, WritesAVerifiableSet) {
  const fapigate::test::TestPki& p = fapigate::test::shared_test_pki();
  EXPECT_EQ(&p, &fapigate::test::shared_test_pki());
  EXPECT_EQ(verify_chain(p.ca, p.server, X509_PURPOSE_SSL_SERVER, "localhost", "127.0.0.1"),
            X509_V_OK);
  EXPECT_EQ(verify_chain(p.ca, p.client, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_EQ(verify_chain(p.ca, p.other_client, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_NE(x5t_s256(p.client.der), x5t_s256(p.other_client.der));
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(read(p.ca_cert_file), p.ca.cert_pem);
  EXPECT_EQ(read(p.client_key_file), p.client.key_pem);
  EXPECT_EQ(parse_certificate_pem(read(p.other_client_cert_file))->subject_dn,
            "CN=other-partner,O=fapigate");
  auto perms = std::filesystem::status(p.server_key_file).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::others_read, std::filesystem::perms::none);
  EXPECT_TRUE(load_ca(read(p.ca_cert_file), read(p.ca_key_file)));
}

}  // namespace
}  // namespace fapigate::crypto
