// The client side: the server is verified against ca_file (or OpenSSL's default paths) and its
// name checked per connection (prepare_client_ssl); optional client certificate for mTLS. Same
// protocol policy as the server (TLS 1.2 with the FAPI suites, or TLS 1.3).
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "tls/context.hpp"

typedef struct ssl_st SSL;

namespace fapigate::tls {

struct ClientTlsOptions {
  std::string ca_file;    // PEM trust anchors; empty: OpenSSL default verify paths
  std::string cert_file;  // optional client certificate (PEM, chain)
  std::string key_file;   // its private key (required with cert_file)
};

[[nodiscard]] Result<Context> make_client_context(const ClientTlsOptions& options,
                                                  std::string* error_detail = nullptr);

// Per connection, before the handshake: SNI for a DNS name (not for an IP literal) and the
// RFC 6125 name check (SSL_set1_host, or the IP address for a literal). false on failure.
[[nodiscard]] bool prepare_client_ssl(SSL* ssl, std::string_view host);

}  // namespace fapigate::tls
