// Builds the request the upstream receives and the response the client receives. Incoming
// identity headers are stripped first, so the upstream sees only what the gateway vouches for:
// the verified token, the RFC 9440 Client-Cert of this connection, x-fapi-interaction-id and
// X-Forwarded-*.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace fapigate::gw {

http::ClientRequest make_upstream_request(const http::Request& incoming,
                                          const std::string& upstream_base,
                                          const std::string& interaction_id);

// What a route adds to the plain rewrite above.
struct ForwardOptions {
  std::string target;  // request-target to send (normalised path + query); empty: incoming's
  // The certificate to vouch for in Client-Cert: the connection's, or the one a trusted proxy
  // passed in its own Client-Cert; null: none.
  const http::PeerCertificate* certificate = nullptr;
  bool trusted_proxy = false;  // the peer is a trusted proxy: keep its X-Forwarded-* chain
  std::string authorization;   // replaces Authorization when not empty ("Bearer <jwt>")
  // More incoming headers to drop (claim headers, scope header); borrowed, may be null.
  const std::vector<std::string>* strip = nullptr;
  // Set after stripping (claim headers); borrowed, may be null.
  const std::vector<http::Headers::Field>* add = nullptr;
};

// nullopt when a value to forward contains CR, LF or NUL (header injection): the caller refuses.
std::optional<http::ClientRequest> make_upstream_request(const http::Request& incoming,
                                                         const std::string& upstream_base,
                                                         const std::string& interaction_id,
                                                         const ForwardOptions& options);

// RFC 9110 §5.5: a field value the gateway may put on the wire (no CR, LF or NUL).
bool safe_field_value(std::string_view v);

// Copies the upstream's answer minus hop-by-hop headers.
http::Response make_client_response(http::Response upstream, const std::string& interaction_id);

// RFC 9440 §2.1: the DER certificate as a Structured Field byte sequence, ":base64:".
std::string client_cert_header_value(const std::string& der);

}  // namespace fapigate::gw
