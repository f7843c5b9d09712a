#include "tls/client_context.hpp"

#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/log.hpp"

namespace fapigate::tls {

using detail::fail;

Result<Context> make_client_context(const ClientTlsOptions& options, std::string* error_detail) {
  ERR_clear_error();
  Context ctx(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* c = ctx.native_handle();
  if (c == nullptr) {
    return fail(TlsErrc::Internal, "cannot create a TLS client context", "", error_detail);
  }
  if (!detail::apply_fapi_policy(c)) {
    return fail(TlsErrc::Policy, "cannot apply the FAPI TLS policy", "", error_detail);
  }
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c, options.ca_file.c_str(), nullptr) != 1) {
      return fail(TlsErrc::CaFile, "cannot load CA file", options.ca_file, error_detail);
    }
  } else if (SSL_CTX_set_default_verify_paths(c) != 1) {
    return fail(TlsErrc::CaFile, "cannot load the default CA paths", "", error_detail);
  }
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_verify_depth(c, 5);
  if (!options.cert_file.empty() || !options.key_file.empty()) {
    if (options.cert_file.empty() || options.key_file.empty()) {
      return fail(TlsErrc::MissingSetting, "client certificate and key must both be set",
                  options.cert_file.empty() ? options.key_file : options.cert_file,
                  error_detail);
    }
    if (SSL_CTX_use_certificate_chain_file(c, options.cert_file.c_str()) != 1) {
      return fail(TlsErrc::CertificateFile, "cannot load certificate file", options.cert_file,
                  error_detail);
    }
    if (SSL_CTX_use_PrivateKey_file(c, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fail(TlsErrc::KeyFile, "cannot load private key file", options.key_file,
                  error_detail);
    }
    if (SSL_CTX_check_private_key(c) != 1) {
      return fail(TlsErrc::KeyMismatch, "private key does not match certificate",
                  options.key_file, error_detail);
    }
  }
  ERR_clear_error();
  return ctx;
}

bool prepare_client_ssl(SSL* ssl, std::string_view host_view) {
  if (ssl == nullptr || host_view.empty() || host_view.size() > 253) {
    return false;
  }
  std::string host(host_view);
  if (host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  // An IP literal is checked against the iPAddress SANs and never sent as SNI (RFC 6066 §3).
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1) {
    return true;
  }
  ERR_clear_error();
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, host.c_str()) != 1) {
    ERR_clear_error();
    return false;
  }
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace fapigate::tls
