// client_credentials (RFC 6749 §4.4) for mTLS clients: the token is issued to the client itself
// (sub = client_id, RFC 9068 §2.2) and bound to the presented certificate (RFC 8705 §3).
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <string_view>

#include "as/checks/scope.hpp"
#include "as/grants/grant_table.hpp"
#include "as/token_issuer.hpp"

namespace fapigate::as {
namespace {

OAuthResult<AccessTokenParams> token_params(const AsContext& ctx, const http::Request& request,
                                            const Form& form, const store::ClientRecord& client) {
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
  // No grant_id: the token stands alone (no refresh token, no consent to withdraw), and
  // revoke_grant never matches an empty id. So a JWT needs no store record (issued_tokens.hpp).
  params.self_contained = true;
  return params;
}

bool json_safe(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c == '"' || c == '\\' || static_cast<unsigned char>(c) > 0x7E) {
      return false;
    }
  }
  return true;
}

// RFC 6749 §5.1 response. Written directly when every value is JSON-safe as it is (the token
// is base64url and dots; scope tokens exclude '"' and '\' by RFC 6749 §3.3, but a registered
// scope is checked here rather than trusted), so no JSON tree is built per token.
std::string response_body(const IssuedAccessToken& issued) {
  if (!json_safe(issued.token) || !json_safe(issued.scope)) {
    boost::json::object body;
    body["access_token"] = issued.token;
    body["token_type"] = "Bearer";
    body["expires_in"] = issued.expires_at - issued.issued_at;
    body["scope"] = issued.scope;
    return boost::json::serialize(body);
  }
  std::string body;
  body.reserve(issued.token.size() + issued.scope.size() + 96);
  body += R"({"access_token":")";
  body += issued.token;
  // RFC 8705 §3: certificate-bound tokens keep the Bearer type.
  body += R"(","token_type":"Bearer","expires_in":)";
  char digits[24];
  const std::int64_t lifetime = issued.expires_at - issued.issued_at;
  auto end = std::to_chars(digits, digits + sizeof digits, lifetime).ptr;
  body.append(digits, end);
  body += R"(,"scope":")";
  body += issued.scope;
  body += R"("})";
  return body;
}

}  // namespace

OAuthResult<std::string> client_credentials_grant(const AsContext& ctx,
                                                  const http::Request& request, const Form& form,
                                                  const store::ClientRecord& client) {
  auto params = token_params(ctx, request, form, client);
  if (!params) {
    return params.error();
  }
  auto issued = issue_access_token(ctx, *params);
  if (!issued) {
    return issued.error();
  }
  return response_body(*issued);
}

// The only write is the token record, so it may be deferred (grant_table.hpp).
OAuthResult<DeferredTokenResponse> client_credentials_grant_deferred(
    const AsContext& ctx, const http::Request& request, const Form& form,
    const store::ClientRecord& client) {
  auto params = token_params(ctx, request, form, client);
  if (!params) {
    return params.error();
  }
  auto prepared = prepare_access_token(ctx, *params);
  if (!prepared) {
    return prepared.error();
  }
  DeferredTokenResponse out;
  out.body = response_body(prepared->issued);
  out.token = std::move(*prepared);
  return out;
}

}  // namespace fapigate::as
