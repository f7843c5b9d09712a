// Builds the request the upstream receives and the response the client receives. Incoming
// identity headers are stripped first, so the upstream sees only what the gateway vouches for:
// the verified token, the RFC 9440 Client-Cert of this connection, x-fapi-interaction-id and
// X-Forwarded-*.
#pragma once

#include <string>

#include "http/message.hpp"

namespace fapigate::gw {

http::ClientRequest make_upstream_request(const http::Request& incoming,
                                          const std::string& upstream_base,
                                          const std::string& interaction_id);

// Copies the upstream's answer minus hop-by-hop headers.
http::Response make_client_response(http::Response upstream, const std::string& interaction_id);

// RFC 9440 §2.1: the DER certificate as a Structured Field byte sequence, ":base64:".
std::string client_cert_header_value(const std::string& der);

}  // namespace fapigate::gw
