// The client certificate of a completed server-side handshake as http::PeerCertificate, with
// its RFC 8705 §3.1 thumbprint. Computed once per connection.
#pragma once

#include <memory>
#include <string>

#include "http/message.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace fapigate::tls {

// Null when the peer presented no certificate or when it cannot be parsed. A certificate that
// did not verify (SSL_get_verify_result is not X509_V_OK) is null too, unless the SSL's context
// was marked by accept_unverified_peers(): then it is returned with chain_verified=false.
// Every other returned view has chain_verified=true.
std::shared_ptr<const http::PeerCertificate> peer_certificate(const SSL* ssl);

// Marks a server context (client_cert: required_any) whose application judges unverified
// client certificates itself (RFC 8705 §2.2, self_signed_tls_client_auth). False on failure.
bool accept_unverified_peers(SSL_CTX* ctx);

// The SNI server name the client sent, empty if none.
std::string server_name(const SSL* ssl);

}  // namespace fapigate::tls
