#include "tls/server_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/log.hpp"
#include "tls/peer_cert.hpp"

namespace fapigate::tls {

using detail::fail;

namespace {

// Optional mode: the certificate is checked (the result is kept for SSL_get_verify_result) but
// a failure does not end the handshake; peer_certificate() only exposes a verified one.
int accept_any_verify(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) { return 1; }

}  // namespace

Result<Context> make_server_context(const config::Tls& tls, std::string* error_detail) {
  ERR_clear_error();
  Context ctx(SSL_CTX_new(TLS_server_method()));
  SSL_CTX* c = ctx.native_handle();
  if (c == nullptr) {
    return fail(TlsErrc::Internal, "cannot create a TLS context for", tls.cert_file, error_detail);
  }
  if (!detail::apply_fapi_policy(c, tls.tls12_dhe_suites)) {
    return fail(TlsErrc::Policy, "cannot apply the FAPI TLS policy for", tls.cert_file,
                error_detail);
  }
  if (tls.cert_file.empty()) {
    return fail(TlsErrc::MissingSetting, "no certificate file configured", tls.cert_file,
                error_detail);
  }
  if (SSL_CTX_use_certificate_chain_file(c, tls.cert_file.c_str()) != 1) {
    return fail(TlsErrc::CertificateFile, "cannot load certificate file", tls.cert_file,
                error_detail);
  }
  if (SSL_CTX_use_PrivateKey_file(c, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fail(TlsErrc::KeyFile, "cannot load private key file", tls.key_file, error_detail);
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return fail(TlsErrc::KeyMismatch, "private key does not match certificate", tls.key_file,
                error_detail);
  }
  if (EVP_PKEY* pk = SSL_CTX_get0_privatekey(c); pk != nullptr && EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
    // The four FAPI TLS 1.2 suites are all RSA-authenticated: with another key type only
    // TLS 1.3 clients can connect.
    core::log::warn("tls_tls12_unavailable",
                    {{"file", tls.cert_file}, {"reason", "server key is not RSA"}});
  }

  // Resumed sessions keep the verified client certificate; the id context must be set for
  // resumption to work with client certificates at all.
  static const unsigned char kSessionIdContext[] = "fapigate";
  if (SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof kSessionIdContext - 1) != 1) {
    return fail(TlsErrc::Internal, "cannot set the session id context for", tls.cert_file,
                error_detail);
  }

  if (tls.client_cert != config::ClientCertMode::None) {
    if (tls.client_ca_file.empty()) {
      return fail(TlsErrc::MissingSetting, "client certificates need client_ca_file for",
                  tls.cert_file, error_detail);
    }
    if (SSL_CTX_load_verify_locations(c, tls.client_ca_file.c_str(), nullptr) != 1) {
      return fail(TlsErrc::ClientCaFile, "cannot load client CA file", tls.client_ca_file,
                  error_detail);
    }
    // The CertificateRequest lists these names so clients pick the right certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr) {
      return fail(TlsErrc::ClientCaFile, "no CA certificate in client CA file",
                  tls.client_ca_file, error_detail);
    }
    SSL_CTX_set_client_CA_list(c, names);  // takes ownership
    SSL_CTX_set_verify_depth(c, 5);
    if (tls.client_cert == config::ClientCertMode::Required) {
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    } else if (tls.client_cert == config::ClientCertMode::RequiredAny) {
      // RFC 8705 §2.2: a self-signed certificate cannot chain to the CA. One is still demanded,
      // and the handshake still proves possession of its key; the chain result is recorded (not
      // enforced) and peer_certificate() reports it as chain_verified.
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         &accept_any_verify);
      if (!accept_unverified_peers(c)) {
        return fail(TlsErrc::Internal, "cannot mark the context for required_any",
                    tls.cert_file, error_detail);
      }
    } else {
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER, &accept_any_verify);
    }
  } else {
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  }
  ERR_clear_error();
  return ctx;
}

}  // namespace fapigate::tls
