// client_credentials (RFC 6749 §4.4) for mTLS clients: the token is issued to the client itself
// (sub = client_id, RFC 9068 §2.2) and bound to the presented certificate (RFC 8705 §3).
#include <boost/json/serialize.hpp>

#include "as/checks/scope.hpp"
#include "as/grants/grant_table.hpp"
#include "as/token_issuer.hpp"
#include "crypto/digest.hpp"

namespace fapigate::as {

OAuthResult<std::string> client_credentials_grant(const AsContext& ctx,
                                                  const http::Request& request, const Form& form,
                                                  const store::ClientRecord& client) {
  std::optional<std::string> requested;
  if (auto it = form.find("scope"); it != form.end()) {
    requested = it->second;
  }
  auto scopes = select_scopes(requested, client);
  if (!scopes) {
    return scopes.error();
  }
  if (!request.peer_certificate) {
    // Authentication already required one; kept as a guard so a token is never unbound.
    return oauth_error(OAuthErrc::InvalidClient, "a client certificate is required");
  }

  AccessTokenParams params;
  params.client_id = client.client_id;
  params.subject = client.client_id;
  params.scopes = std::move(*scopes);
  params.audiences = ctx.settings.access_token_audiences;
  if (params.audiences.empty()) {
    params.audiences.push_back(ctx.settings.issuer);
  }
  params.cnf_x5t_s256 = request.peer_certificate->x5t_s256;
  params.grant_id = crypto::random_token(16);

  auto issued = issue_access_token(ctx, params);
  if (!issued) {
    return issued.error();
  }
  boost::json::object body;
  body["access_token"] = issued->token;
  // RFC 8705 §3: certificate-bound tokens keep the Bearer type.
  body["token_type"] = "Bearer";
  body["expires_in"] = issued->expires_at - issued->issued_at;
  body["scope"] = issued->scope;
  return boost::json::serialize(body);
}

}  // namespace fapigate::as
