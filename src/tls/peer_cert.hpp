// The client certificate of a completed server-side handshake as http::PeerCertificate, with
// its RFC 8705 §3.1 thumbprint. Computed once per connection.
#pragma once

#include <memory>
#include <string>

#include "http/message.hpp"

typedef struct ssl_st SSL;

namespace fapigate::tls {

// Null when the peer presented no certificate, when it did not verify (SSL_get_verify_result
// is not X509_V_OK) or when it cannot be parsed.
std::shared_ptr<const http::PeerCertificate> peer_certificate(const SSL* ssl);

// The SNI server name the client sent, empty if none.
std::string server_name(const SSL* ssl);

}  // namespace fapigate::tls
