#include "tls/peer_cert.hpp"

#include <climits>
#include <optional>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/base64url.hpp"
#include "core/log.hpp"
#include "crypto/x509.hpp"

namespace fapigate::tls {
namespace {

// The SSL_CTX ex_data slot that marks a required_any context. Allocated once, thread-safely.
int unverified_ok_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Only the address matters: a non-null slot means "marked".
const char kMarked = 1;

bool accepts_unverified(const SSL* ssl) {
  const int index = unverified_ok_index();
  const SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
  return index >= 0 && ctx != nullptr && SSL_CTX_get_ex_data(ctx, index) == &kMarked;
}

// More intermediates than any real PKI has (a directory root, an issuing CA, perhaps a policy
// CA); a longer chain is still accepted by the handshake but not forwarded.
constexpr int kMaxForwardedIntermediates = 8;

std::optional<std::string> der_of(X509* cert) {
  const int len = i2d_X509(cert, nullptr);
  if (len <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509(cert, &out) != len) {
    ERR_clear_error();
    return std::nullopt;
  }
  return der;
}

// RFC 9440 §2.3: SSL_get0_verified_chain is [end entity, intermediates..., trust anchor]; the
// field carries the intermediates, in that order, each certifying the one before.
std::string chain_field(const SSL* ssl) {
  STACK_OF(X509)* chain = SSL_get0_verified_chain(ssl);
  const int n = chain != nullptr ? sk_X509_num(chain) : 0;
  if (n <= 2) {
    return {};
  }
  if (n - 2 > kMaxForwardedIntermediates) {
    core::log::warn("tls_client_chain_not_forwarded", {{"intermediates", std::to_string(n - 2)}});
    return {};
  }
  std::string out;
  for (int i = 1; i < n - 1; ++i) {
    auto der = der_of(sk_X509_value(chain, i));
    if (!der) {
      return {};
    }
    out.append(out.empty() ? "" : ", ").append(1, ':').append(core::base64_encode(*der));
    out.append(1, ':');
  }
  return out;
}

}  // namespace

bool accept_unverified_peers(SSL_CTX* ctx) {
  const int index = unverified_ok_index();
  return ctx != nullptr && index >= 0 &&
         SSL_CTX_set_ex_data(ctx, index, const_cast<char*>(&kMarked)) == 1;
}

std::shared_ptr<const http::PeerCertificate> peer_certificate(const SSL* ssl) {
  if (ssl == nullptr) {
    return nullptr;
  }
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) {
    return nullptr;
  }
  // Optional and required_any modes let an unverified certificate through the handshake; it
  // must never reach the application as if it were trusted. Only a required_any listener (the
  // AS, which matches it against a client's registered keys) sees it at all, marked unverified.
  const bool chain_verified = SSL_get_verify_result(ssl) == X509_V_OK;
  if (!chain_verified && !accepts_unverified(ssl)) {
    return nullptr;
  }
  auto leaf = der_of(cert);
  if (!leaf) {
    return nullptr;
  }
  std::string der = std::move(*leaf);
  auto parsed = crypto::parse_certificate_der(der);
  if (!parsed) {
    core::log::warn("tls_peer_certificate_unparsable", {{"reason", parsed.error().message()}});
    return nullptr;
  }
  auto view = std::make_shared<http::PeerCertificate>();
  view->x5t_s256 = crypto::x5t_s256(der);
  view->der = std::move(der);
  view->subject_dn = std::move(parsed->subject_dn);
  view->issuer_dn = std::move(parsed->issuer_dn);
  view->san_dns = std::move(parsed->san_dns);
  view->san_uri = std::move(parsed->san_uri);
  view->san_ip = std::move(parsed->san_ip);
  view->san_email = std::move(parsed->san_email);
  view->not_before = parsed->not_before;
  view->not_after = parsed->not_after;
  view->chain_verified = chain_verified;
  if (chain_verified) {
    view->chain_field = chain_field(ssl);
  }
  return view;
}

std::string server_name(const SSL* ssl) {
  if (ssl == nullptr) {
    return {};
  }
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? std::string(name) : std::string();
}

}  // namespace fapigate::tls
