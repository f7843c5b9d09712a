// Dynamic client registration (RFC 7591 §3) at POST /register and client configuration
// management (RFC 7592 §2) at GET/PUT/DELETE /register/{client_id}, served on the mTLS alias
// listener only (a client certificate is demanded, as Open Banking and Brasil do).
//
//   POST    Authorization: Bearer <initial access token> (configured as SHA-256 hashes,
//           compared in constant time); the JSON metadata, optionally with a software
//           statement; 201 with client_id, client_id_issued_at, the registered metadata, a
//           registration_access_token (256 random bits, stored only as its hash) and the
//           registration_client_uri.
//   GET     Authorization: Bearer <registration access token>: 200 and the current metadata.
//   PUT     the same token: full replacement (client_id must match); 200 with a new
//           registration_access_token, the old one revoked (RFC 7592 §2.2 allows rotation).
//   DELETE  the same token: 204; the client, its tokens, codes and the registration access
//           token go with it (ON DELETE CASCADE in the store).
//
// A missing or wrong token, another client's token, or an unknown client: 401 invalid_token
// with WWW-Authenticate: Bearer (RFC 6750 §3, RFC 7592 §2.1).
//
// The certificate: tls_client_auth clients must present a CA-issued certificate that matches
// the registered subject/SAN field, self_signed_tls_client_auth clients one that is in their
// registered jwks, private_key_jwt clients any certificate that chains to the mTLS listener's
// CA. No certificate or an untrusted one: 401 invalid_client; one that does not match the
// metadata: 400 invalid_client_metadata.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "as/as_context.hpp"
#include "as/checks/software_statement.hpp"
#include "config/model.hpp"
#include "core/result.hpp"
#include "http/message.hpp"

namespace fapigate::as {

// Built once at start from authorization_server.registration; immutable afterwards.
class Registration {
public:
  // Reads initial_access_tokens_file and software_statement_jwks_file (bounded); an unreadable
  // or malformed file is an error logged with its key.
  [[nodiscard]] static Result<std::shared_ptr<const Registration>> create(
      const config::DynamicRegistration& settings);

  // Constant time in the token (its hash is compared against every configured hash).
  bool initial_access_token_valid(std::string_view token) const;
  const config::DynamicRegistration& settings() const { return settings_; }
  const SoftwareStatementTrust& statement_trust() const { return trust_; }

private:
  config::DynamicRegistration settings_;
  std::vector<std::string> token_hashes_;
  SoftwareStatementTrust trust_;
};

// Routes /register and /register/{client_id}; 404 when registration is not enabled.
http::Response registration_endpoint(const AsContext& ctx, const http::Request& request);

// The registration_access_token kind in the token store.
inline constexpr std::string_view kRegistrationAccessTokenKind = "registration_access_token";

}  // namespace fapigate::as
