// Client authentication at the token and introspection endpoints. This slice supports
// tls_client_auth (RFC 8705 §2.1): the TLS layer has already verified the chain against the
// configured CA, and here the certificate must match the client's registered subject DN or SAN.
#pragma once

#include <map>
#include <string>

#include "as/oauth_error.hpp"
#include "http/message.hpp"
#include "store/store.hpp"

namespace fapigate::as {

using Form = std::map<std::string, std::string>;

[[nodiscard]] OAuthResult<store::ClientRecord> authenticate_client(const http::Request& request,
                                                                   const Form& form,
                                                                   store::ClientStore& clients);

// RFC 8705 §2.1.2: exactly the registered field is compared (subject DN, or one SAN type).
bool certificate_matches_client(const http::PeerCertificate& cert,
                                const store::ClientRecord& client);

}  // namespace fapigate::as
