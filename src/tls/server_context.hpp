// The server side of a TLS listener: certificate + key, the FAPI policy, and the client
// certificate mode (config::ClientCertMode):
//   None      no certificate requested;
//   Optional  requested and verified against client_ca_file, but the handshake goes on without
//             one or with one that does not verify; the application then sees no certificate
//             (peer_certificate() is null unless verification succeeded) and decides;
//   Required  SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT: the handshake fails without a
//             certificate that verifies against client_ca_file.
//   RequiredAny  a certificate is demanded (the handshake fails without one), but one that does
//             not verify is let through: peer_certificate() returns it with chain_verified=false
//             (AS mTLS listener only, for self_signed_tls_client_auth, RFC 8705 §2.2).
#pragma once

#include <string>

#include "config/model.hpp"
#include "core/result.hpp"
#include "tls/context.hpp"

namespace fapigate::tls {

// Errors name the file that failed to load in *error_detail (when given) as well as in the log.
[[nodiscard]] Result<Context> make_server_context(const config::Tls& tls,
                                                  std::string* error_detail = nullptr);

}  // namespace fapigate::tls
