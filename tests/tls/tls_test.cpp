// tls/: the FAPI protocol policy and client-certificate modes, exercised with in-memory
// handshakes (a BIO pair, no sockets) between contexts from make_server_context and OpenSSL
// clients configured as a partner (or an attacker) would.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "core/base64url.hpp"
#include "crypto/x509.hpp"
#include "tls/client_context.hpp"
#include "tls/peer_cert.hpp"
#include "tls/server_context.hpp"
#include "tls/test_pki.hpp"

namespace fapigate::tls {
namespace {

using testing::TestPki;

struct SslDeleter {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct CtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslPtr = std::unique_ptr<SSL, SslDeleter>;
using CtxPtr = std::unique_ptr<SSL_CTX, CtxDeleter>;

config::Tls server_config(config::ClientCertMode mode) {
  const auto& pki = TestPki::get();
  config::Tls tls;
  tls.cert_file = pki.server_cert;
  tls.key_file = pki.server_key;
  tls.client_ca_file = pki.ca_file;
  tls.client_cert = mode;
  return tls;
}

// A bare OpenSSL client (not our policy): what an arbitrary peer may offer.
CtxPtr raw_client(const std::string& cert = {}, const std::string& key = {}) {
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  EXPECT_EQ(SSL_CTX_load_verify_locations(ctx.get(), TestPki::get().ca_file.c_str(), nullptr), 1);
  if (!cert.empty()) {
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM), 1);
  }
  return ctx;
}

struct Handshake {
  SslPtr server;
  SslPtr client;
  bool ok = false;
};

// Drives both ends over a BIO pair until both finish or one fails. With TLS 1.3 the client is
// done before the server has checked its certificate, so success means both ends succeeded.
Handshake handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, const char* sni = "localhost") {
  Handshake h;
  h.server.reset(SSL_new(server_ctx));
  h.client.reset(SSL_new(client_ctx));
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  BIO_new_bio_pair(&server_bio, 0, &client_bio, 0);
  SSL_set_bio(h.server.get(), server_bio, server_bio);
  SSL_set_bio(h.client.get(), client_bio, client_bio);
  SSL_set_accept_state(h.server.get());
  SSL_set_connect_state(h.client.get());
  if (sni != nullptr) {
    SSL_set_tlsext_host_name(h.client.get(), sni);
  }
  bool server_done = false;
  bool client_done = false;
  for (int i = 0; i < 50 && !(server_done && client_done); ++i) {
    if (!client_done) {
      const int rc = SSL_do_handshake(h.client.get());
      if (rc == 1) {
        client_done = true;
      } else {
        const int err = SSL_get_error(h.client.get(), rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          break;
        }
      }
    }
    if (!server_done) {
      const int rc = SSL_do_handshake(h.server.get());
      if (rc == 1) {
        server_done = true;
      } else {
        const int err = SSL_get_error(h.server.get(), rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          break;
        }
      }
    }
  }
  // Let a TLS 1.3 client see the server's alert, if any (a read pumps post-handshake data).
  if (server_done && client_done) {
    char byte;
    SSL_read(h.client.get(), &byte, 0);
  }
  ERR_clear_error();
  h.ok = server_done && client_done;
  return h;
}

Context server_ctx(config::ClientCertMode mode) {
  auto ctx = make_server_context(server_config(mode));
  EXPECT_TRUE(ctx.has_value()) << (ctx ? "" : ctx.error().message());
  return ctx ? *ctx : Context();
}

TEST(TlsServerContext, MissingCertificateFileIsNamed) {
  auto cfg = server_config(config::ClientCertMode::None);
  cfg.cert_file = TestPki::get().dir.string() + "/nope.pem";
  std::string detail;
  auto ctx = make_server_context(cfg, &detail);
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error(), make_error_code(TlsErrc::CertificateFile));
  EXPECT_NE(detail.find("nope.pem"), std::string::npos) << detail;
}

TEST(TlsServerContext, MismatchedKeyIsRefused) {
  auto cfg = server_config(config::ClientCertMode::None);
  cfg.key_file = TestPki::get().client_key;
  std::string detail;
  auto ctx = make_server_context(cfg, &detail);
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error(), make_error_code(TlsErrc::KeyMismatch));
  EXPECT_NE(detail.find("client.key"), std::string::npos) << detail;
}

TEST(TlsServerContext, ClientCertificatesNeedACaFile) {
  auto cfg = server_config(config::ClientCertMode::Required);
  cfg.client_ca_file.clear();
  auto ctx = make_server_context(cfg);
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error(), make_error_code(TlsErrc::MissingSetting));
}

TEST(TlsServerContext, UnreadableClientCaIsNamed) {
  auto cfg = server_config(config::ClientCertMode::Optional);
  cfg.client_ca_file = TestPki::get().server_key;  // a key, not a certificate
  std::string detail;
  auto ctx = make_server_context(cfg, &detail);
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error(), make_error_code(TlsErrc::ClientCaFile));
  EXPECT_NE(detail.find("server.key"), std::string::npos) << detail;
}

TEST(TlsMutual, RequiredWithValidCertificateExposesThumbprintAndSubject) {
  const auto& pki = TestPki::get();
  auto server = server_ctx(config::ClientCertMode::Required);
  auto client = raw_client(pki.client_cert, pki.client_key);
  auto h = handshake(server.native_handle(), client.get());
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(std::string(SSL_get_version(h.server.get())), "TLSv1.3");
  auto peer = peer_certificate(h.server.get());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->der, pki.client_der);
  EXPECT_EQ(peer->x5t_s256, crypto::x5t_s256(pki.client_der));
  EXPECT_EQ(peer->x5t_s256.size(), 43u);  // 32 bytes, base64url, no padding
  EXPECT_EQ(peer->subject_dn, pki.client_subject_dn);
  EXPECT_NE(peer->subject_dn.find("CN=partner-client"), std::string::npos) << peer->subject_dn;
  EXPECT_NE(peer->issuer_dn.find("CN=fapigate test CA"), std::string::npos) << peer->issuer_dn;
  EXPECT_LT(peer->not_before, peer->not_after);
  EXPECT_EQ(server_name(h.server.get()), "localhost");
  // Issued by the trust anchor itself: no intermediates for RFC 9440 Client-Cert-Chain.
  EXPECT_EQ(peer->chain_field, "");
}

TEST(TlsMutual, IntermediatesTheChainVerifiedThroughAreTheClientCertChain) {  // CC-02
  const auto& pki = TestPki::get();
  auto tls = server_config(config::ClientCertMode::Required);
  tls.client_ca_file = pki.chain_root_file;  // the root only: the client sends its issuing CA
  auto server = make_server_context(tls);
  ASSERT_TRUE(server) << server.error().message();
  auto client = raw_client(pki.chain_client_cert, pki.chain_client_key);
  auto h = handshake(server->native_handle(), client.get());
  ASSERT_TRUE(h.ok);
  auto peer = peer_certificate(h.server.get());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->der, pki.chain_client_der);
  EXPECT_TRUE(peer->chain_verified);
  // RFC 9440 §2.3: the issuing CA as a byte sequence; neither the client's own certificate
  // nor the trust anchor.
  EXPECT_EQ(peer->chain_field, ":" + core::base64_encode(pki.chain_issuing_der) + ":");
}

TEST(TlsMutual, RequiredWithoutCertificateFails) {
  auto server = server_ctx(config::ClientCertMode::Required);
  auto client = raw_client();
  auto h = handshake(server.native_handle(), client.get());
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(peer_certificate(h.server.get()), nullptr);
}

TEST(TlsMutual, RequiredWithCertificateFromAnotherCaFails) {
  const auto& pki = TestPki::get();
  auto server = server_ctx(config::ClientCertMode::Required);
  auto client = raw_client(pki.other_client_cert, pki.other_client_key);
  auto h = handshake(server.native_handle(), client.get());
  EXPECT_FALSE(h.ok);
}

TEST(TlsMutual, OptionalWithoutCertificateSucceedsWithNoPeer) {
  auto server = server_ctx(config::ClientCertMode::Optional);
  auto client = raw_client();
  auto h = handshake(server.native_handle(), client.get());
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(peer_certificate(h.server.get()), nullptr);
}

TEST(TlsMutual, OptionalWithUntrustedCertificateNeverExposesIt) {
  const auto& pki = TestPki::get();
  auto server = server_ctx(config::ClientCertMode::Optional);
  auto client = raw_client(pki.other_client_cert, pki.other_client_key);
  auto h = handshake(server.native_handle(), client.get());
  ASSERT_TRUE(h.ok);  // the application decides; it sees no certificate
  EXPECT_NE(SSL_get0_peer_certificate(h.server.get()), nullptr);
  EXPECT_EQ(peer_certificate(h.server.get()), nullptr);
}

TEST(TlsMutual, OptionalWithValidCertificateExposesIt) {
  const auto& pki = TestPki::get();
  auto server = server_ctx(config::ClientCertMode::Optional);
  auto client = raw_client(pki.client2_cert, pki.client2_key);
  auto h = handshake(server.native_handle(), client.get());
  ASSERT_TRUE(h.ok);
  auto peer = peer_certificate(h.server.get());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->x5t_s256, crypto::x5t_s256(pki.client2_der));
}

TEST(TlsMutual, NoneModeRequestsNoCertificate) {
  const auto& pki = TestPki::get();
  auto server = server_ctx(config::ClientCertMode::None);
  auto client = raw_client(pki.client_cert, pki.client_key);
  auto h = handshake(server.native_handle(), client.get());
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(peer_certificate(h.server.get()), nullptr);
}

// required_any (RFC 8705 §2.2, self_signed_tls_client_auth): a certificate is demanded, one
// that does not chain is exposed but marked; one that chains is marked verified.
TEST(TlsMutual, RequiredAnyWithoutCertificateFails) {
  auto server = server_ctx(config::ClientCertMode::RequiredAny);
  auto client = raw_client();
  auto h = handshake(server.native_handle(), client.get());
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(peer_certificate(h.server.get()), nullptr);
}

TEST(TlsMutual, RequiredAnyExposesAnUntrustedCertificateAsUnverified) {
  const auto& pki = TestPki::get();
  auto server = server_ctx(config::ClientCertMode::RequiredAny);
  auto client = raw_client(pki.other_client_cert, pki.other_client_key);
  auto h = handshake(server.native_handle(), client.get());
  ASSERT_TRUE(h.ok);
  auto peer = peer_certificate(h.server.get());
  ASSERT_NE(peer, nullptr);
  EXPECT_FALSE(peer->chain_verified);
  EXPECT_NE(peer->issuer_dn.find("CN=unrelated CA"), std::string::npos) << peer->issuer_dn;
}

TEST(TlsMutual, RequiredAnyMarksATrustedCertificateVerified) {
  const auto& pki = TestPki::get();
  auto server = server_ctx(config::ClientCertMode::RequiredAny);
  auto client = raw_client(pki.client_cert, pki.client_key);
  auto h = handshake(server.native_handle(), client.get());
  ASSERT_TRUE(h.ok);
  auto peer = peer_certificate(h.server.get());
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(peer->chain_verified);
  EXPECT_EQ(peer->der, pki.client_der);
}

TEST(TlsMutual, VerifiedModesMarkTheCertificateVerifiedAndNeverExposeOthers) {
  const auto& pki = TestPki::get();
  for (auto mode : {config::ClientCertMode::Required, config::ClientCertMode::Optional}) {
    auto server = server_ctx(mode);
    auto good = raw_client(pki.client_cert, pki.client_key);
    auto h = handshake(server.native_handle(), good.get());
    ASSERT_TRUE(h.ok);
    auto peer = peer_certificate(h.server.get());
    ASSERT_NE(peer, nullptr);
    EXPECT_TRUE(peer->chain_verified);
  }
  // The required_any marking belongs to its own context only.
  auto any = server_ctx(config::ClientCertMode::RequiredAny);
  auto optional = server_ctx(config::ClientCertMode::Optional);
  auto untrusted = raw_client(pki.other_client_cert, pki.other_client_key);
  auto h = handshake(optional.native_handle(), untrusted.get());
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(peer_certificate(h.server.get()), nullptr);
}

TEST(TlsServerContext, RequiredAnyNeedsACaFile) {
  auto cfg = server_config(config::ClientCertMode::RequiredAny);
  cfg.client_ca_file.clear();
  EXPECT_FALSE(make_server_context(cfg).has_value());
}

// FAPI 2.0 SP §5.2.2-1 (RFC 9325 §4.2): TLS 1.2 only with ECDHE and AES-GCM; the ECDHE-RSA
// pair is also on FAPI 1.0 Part 2 §8.5's list.
TEST(TlsPolicy, Tls12WithFapiSuitesSucceeds) {
  auto server = server_ctx(config::ClientCertMode::None);
  for (const char* suite : {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"}) {
    auto client = raw_client();
    SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION);
    ASSERT_EQ(SSL_CTX_set_cipher_list(client.get(), suite), 1);
    auto h = handshake(server.native_handle(), client.get());
    ASSERT_TRUE(h.ok) << suite;
    EXPECT_EQ(std::string(SSL_get_cipher_name(h.server.get())), suite);
    EXPECT_EQ(std::string(SSL_get_version(h.server.get())), "TLSv1.2");
  }
}

// FAPI 1.0's DHE-RSA suites are not recommended by RFC 9325 §4.2, so FAPI 2.0 endpoints refuse
// them; a listener opts in with tls12_dhe_suites, and then all four FAPI 1.0 suites work.
TEST(TlsPolicy, DheSuitesOnlyWhereTheListenerOffersThem) {
  const char* dhe[] = {"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"};
  auto strict = server_ctx(config::ClientCertMode::None);
  for (const char* suite : dhe) {
    auto client = raw_client();
    SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION);
    ASSERT_EQ(SSL_CTX_set_cipher_list(client.get(), suite), 1);
    EXPECT_FALSE(handshake(strict.native_handle(), client.get()).ok) << suite;
  }
  auto cfg = server_config(config::ClientCertMode::None);
  cfg.tls12_dhe_suites = true;
  auto fapi1 = make_server_context(cfg);
  ASSERT_TRUE(fapi1.has_value());
  for (const char* suite : {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                            "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"}) {
    auto client = raw_client();
    SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION);
    ASSERT_EQ(SSL_CTX_set_cipher_list(client.get(), suite), 1);
    auto h = handshake(fapi1->native_handle(), client.get());
    ASSERT_TRUE(h.ok) << suite;
    EXPECT_EQ(std::string(SSL_get_cipher_name(h.server.get())), suite);
  }
  // Other suites stay refused there too.
  auto client = raw_client();
  SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION);
  ASSERT_EQ(SSL_CTX_set_cipher_list(client.get(), "DHE-RSA-AES128-SHA256"), 1);
  EXPECT_FALSE(handshake(fapi1->native_handle(), client.get()).ok);
}

TEST(TlsPolicy, Tls12WithNonFapiSuitesFails) {
  auto server = server_ctx(config::ClientCertMode::None);
  for (const char* suite : {"ECDHE-RSA-AES128-SHA", "AES128-SHA256", "AES128-GCM-SHA256",
                            "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-AES256-SHA384"}) {
    auto client = raw_client();
    SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION);
    ASSERT_EQ(SSL_CTX_set_cipher_list(client.get(), suite), 1);
    auto h = handshake(server.native_handle(), client.get());
    EXPECT_FALSE(h.ok) << suite;
  }
}

TEST(TlsPolicy, Tls11IsRefused) {
  auto server = server_ctx(config::ClientCertMode::None);
  auto client = raw_client();
  SSL_CTX_set_security_level(client.get(), 0);
  SSL_CTX_set_min_proto_version(client.get(), TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(client.get(), TLS1_1_VERSION);
  SSL_CTX_set_cipher_list(client.get(), "ALL:@SECLEVEL=0");
  auto h = handshake(server.native_handle(), client.get());
  EXPECT_FALSE(h.ok);
}

TEST(TlsPolicy, CompressionAndRenegotiationAreOff) {
  auto server = server_ctx(config::ClientCertMode::None);
  const auto options = SSL_CTX_get_options(server.native_handle());
  EXPECT_NE(options & SSL_OP_NO_RENEGOTIATION, 0u);
  EXPECT_NE(options & SSL_OP_NO_COMPRESSION, 0u);
  EXPECT_NE(options & SSL_OP_CIPHER_SERVER_PREFERENCE, 0u);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(server.native_handle()), TLS1_2_VERSION);
}

// The client side: our policy, server verification and the name check.
struct ClientCase {
  const char* host;
  bool ok;
};

Handshake client_handshake(const ClientTlsOptions& options, const char* host) {
  auto server = server_ctx(config::ClientCertMode::Optional);
  auto client = make_client_context(options);
  EXPECT_TRUE(client.has_value());
  Handshake h;
  h.server.reset(SSL_new(server.native_handle()));
  h.client.reset(SSL_new(client->native_handle()));
  EXPECT_TRUE(prepare_client_ssl(h.client.get(), host));
  // Reuse the pump with prepared SSL objects.
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  BIO_new_bio_pair(&server_bio, 0, &client_bio, 0);
  SSL_set_bio(h.server.get(), server_bio, server_bio);
  SSL_set_bio(h.client.get(), client_bio, client_bio);
  SSL_set_accept_state(h.server.get());
  SSL_set_connect_state(h.client.get());
  bool s_done = false;
  bool c_done = false;
  for (int i = 0; i < 50 && !(s_done && c_done); ++i) {
    if (!c_done) {
      const int rc = SSL_do_handshake(h.client.get());
      c_done = rc == 1;
      if (rc != 1) {
        const int e = SSL_get_error(h.client.get(), rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
          break;
        }
      }
    }
    if (!s_done) {
      const int rc = SSL_do_handshake(h.server.get());
      s_done = rc == 1;
      if (rc != 1) {
        const int e = SSL_get_error(h.server.get(), rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
          break;
        }
      }
    }
  }
  ERR_clear_error();
  h.ok = s_done && c_done;
  return h;
}

TEST(TlsClientContext, VerifiesServerNameAndAddress) {
  ClientTlsOptions options;
  options.ca_file = TestPki::get().ca_file;
  for (const ClientCase c : {ClientCase{"localhost", true}, ClientCase{"127.0.0.1", true},
                             ClientCase{"[::1]", true}, ClientCase{"evil.example", false},
                             ClientCase{"10.0.0.1", false}}) {
    auto h = client_handshake(options, c.host);
    EXPECT_EQ(h.ok, c.ok) << c.host;
  }
}

TEST(TlsClientContext, SendsSniForNamesOnly) {
  ClientTlsOptions options;
  options.ca_file = TestPki::get().ca_file;
  auto h = client_handshake(options, "localhost");
  ASSERT_TRUE(h.ok);
  EXPECT_EQ(server_name(h.server.get()), "localhost");
  auto h2 = client_handshake(options, "127.0.0.1");
  ASSERT_TRUE(h2.ok);
  EXPECT_EQ(server_name(h2.server.get()), "");
}

TEST(TlsClientContext, UntrustedServerFails) {
  ClientTlsOptions options;
  options.ca_file = TestPki::get().other_ca_file;
  EXPECT_FALSE(client_handshake(options, "localhost").ok);
}

TEST(TlsClientContext, PresentsClientCertificate) {
  const auto& pki = TestPki::get();
  ClientTlsOptions options;
  options.ca_file = pki.ca_file;
  options.cert_file = pki.client_cert;
  options.key_file = pki.client_key;
  auto h = client_handshake(options, "localhost");
  ASSERT_TRUE(h.ok);
  auto peer = peer_certificate(h.server.get());
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->x5t_s256, crypto::x5t_s256(pki.client_der));
}

TEST(TlsClientContext, MissingFilesAreNamed) {
  ClientTlsOptions options;
  options.ca_file = "/nonexistent/ca-bundle.pem";
  std::string detail;
  auto ctx = make_client_context(options, &detail);
  ASSERT_FALSE(ctx.has_value());
  EXPECT_EQ(ctx.error(), make_error_code(TlsErrc::CaFile));
  EXPECT_NE(detail.find("/nonexistent/ca-bundle.pem"), std::string::npos);

  options.ca_file = TestPki::get().ca_file;
  options.cert_file = TestPki::get().client_cert;
  auto no_key = make_client_context(options);
  ASSERT_FALSE(no_key.has_value());
  EXPECT_EQ(no_key.error(), make_error_code(TlsErrc::MissingSetting));
}

TEST(TlsClientContext, PrepareRejectsEmptyHost) {
  auto ctx = make_client_context({});
  ASSERT_TRUE(ctx.has_value());
  SslPtr ssl(SSL_new(ctx->native_handle()));
  EXPECT_FALSE(prepare_client_ssl(ssl.get(), ""));
}

}  // namespace
}  // namespace fapigate::tls
