#include "tls/context.hpp"

#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/log.hpp"

namespace fapigate::tls {

namespace {

class TlsCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "fapigate.tls"; }
  std::string message(int ev) const override {
    switch (static_cast<TlsErrc>(ev)) {
      case TlsErrc::CertificateFile: return "cannot load the certificate file";
      case TlsErrc::KeyFile: return "cannot load the private key file";
      case TlsErrc::KeyMismatch: return "the private key does not match the certificate";
      case TlsErrc::ClientCaFile: return "cannot load the client CA file";
      case TlsErrc::CaFile: return "cannot load the CA file";
      case TlsErrc::Policy: return "the TLS protocol policy could not be applied";
      case TlsErrc::MissingSetting: return "a required TLS setting is missing";
      case TlsErrc::Internal: return "internal TLS error";
    }
    return "unknown TLS error";
  }
};

}  // namespace

ErrorCode make_error_code(TlsErrc e) {
  static const TlsCategory category;
  return {static_cast<int>(e), category};
}

Context::Context(SSL_CTX* ctx) : ctx_(ctx, &SSL_CTX_free) {}

namespace detail {

bool apply_fapi_policy(SSL_CTX* ctx, bool dhe_suites) {
  // FAPI 1.0 Part 2 §8.5 / FAPI 2.0 SP §5.2.2: TLS 1.2 or later; for 1.2 only the listed suites.
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return false;
  }
  const char* suites = dhe_suites ? kFapi1Tls12CiphersWithDhe : kFapiTls12Ciphers;
  if (SSL_CTX_set_cipher_list(ctx, suites) != 1) {
    return false;
  }
  if (SSL_CTX_set1_groups_list(ctx, kFapiGroups) != 1) {
    return false;
  }
  // DHE suites need parameters; OpenSSL picks a group matching the certificate's strength
  // (2048 bits or more for an RSA-2048 certificate, as FAPI 1.0 Part 2 §8.5 asks).
  if (dhe_suites && SSL_CTX_set_dh_auto(ctx, 1) != 1) {
    return false;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle keep-alive connections are the common case at a gateway: OpenSSL frees a
  // connection's record buffers while they are empty instead of holding ~34 KiB each.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return true;
}

std::string openssl_error_text() {
  std::string out;
  unsigned long e = 0;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
  }
  return out;
}

ErrorCode fail(TlsErrc code, std::string_view what, const std::string& file,
               std::string* error_detail) {
  std::string detail = std::string(what) + " '" + file + "'";
  const std::string ossl = openssl_error_text();
  core::log::error("tls_context_failed",
                   {{"file", file}, {"reason", std::string(what)}, {"openssl", ossl}});
  if (error_detail != nullptr) {
    *error_detail = ossl.empty() ? detail : detail + " (" + ossl + ")";
  }
  return make_error_code(code);
}

}  // namespace detail
}  // namespace fapigate::tls
