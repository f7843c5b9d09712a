#include "as/checks/client_auth.hpp"

#include <algorithm>

#include "crypto/x509.hpp"

namespace fapigate::as {
namespace {

bool contains(const std::vector<std::string>& values, const std::string& wanted) {
  return std::find(values.begin(), values.end(), wanted) != values.end();
}

}  // namespace

bool certificate_matches_client(const http::PeerCertificate& cert,
                                const store::ClientRecord& client) {
  // RFC 8705 §2.1.2: the client registers one of these, and that one must match.
  if (!client.tls_client_auth_subject_dn.empty()) {
    return crypto::subject_dn_equal(cert.subject_dn, client.tls_client_auth_subject_dn);
  }
  if (!client.tls_client_auth_san_dns.empty()) {
    return contains(cert.san_dns, client.tls_client_auth_san_dns);
  }
  if (!client.tls_client_auth_san_uri.empty()) {
    return contains(cert.san_uri, client.tls_client_auth_san_uri);
  }
  if (!client.tls_client_auth_san_ip.empty()) {
    return contains(cert.san_ip, client.tls_client_auth_san_ip);
  }
  if (!client.tls_client_auth_san_email.empty()) {
    return contains(cert.san_email, client.tls_client_auth_san_email);
  }
  return false;
}

OAuthResult<store::ClientRecord> authenticate_client(const http::Request& request,
                                                     const Form& form,
                                                     store::ClientStore& clients) {
  // Other client authentication methods must not be mixed in (RFC 6749 §2.3: one method).
  if (form.count("client_secret") || request.headers.get("Authorization")) {
    return oauth_error(OAuthErrc::InvalidClient, "client authentication method not allowed",
                       "client_secret or Authorization header presented");
  }
  auto id = form.find("client_id");
  if (id == form.end() || id->second.empty()) {
    // RFC 8705 §2: the client_id parameter identifies a mTLS client.
    return oauth_error(OAuthErrc::InvalidClient, "client_id is required",
                       "no client_id parameter");
  }
  if (id->second.size() > 256) {
    return oauth_error(OAuthErrc::InvalidClient, "client authentication failed",
                       "client_id too long");
  }
  auto found = clients.find_client(id->second);
  if (!found) {
    return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                       "client lookup failed: " + found.error().message());
  }
  if (!*found) {
    return oauth_error(OAuthErrc::InvalidClient, "client authentication failed",
                       "unknown client_id " + id->second);
  }
  const store::ClientRecord& client = **found;
  if (client.token_endpoint_auth_method != "tls_client_auth") {
    return oauth_error(OAuthErrc::InvalidClient, "client authentication failed",
                       "registered method " + client.token_endpoint_auth_method +
                           " is not supported at this endpoint yet");
  }
  if (!request.peer_certificate) {
    // RFC 8705 §2: without a verified client certificate on this connection there is nothing
    // to authenticate with. Clients reach the mTLS aliases (mtls_endpoint_aliases) for this.
    return oauth_error(OAuthErrc::InvalidClient,
                       "a client certificate is required: use the mtls_endpoint_aliases",
                       "no verified client certificate");
  }
  if (!certificate_matches_client(*request.peer_certificate, client)) {
    return oauth_error(OAuthErrc::InvalidClient, "client authentication failed",
                       "certificate does not match the registration of " + client.client_id +
                           " (subject " + request.peer_certificate->subject_dn + ")");
  }
  return client;
}

}  // namespace fapigate::as
