// authorization_code (RFC 6749 §4.1.3) at the token endpoint, as FAPI requires it: PKCE S256
// (RFC 7636 §4.6), a code that lives at most 60 s (FAPI 2.0 SP §5.3.2.1-11) and is used once
// (RFC 6749 §4.1.2: a second use is refused and revokes what the first one issued; F1-16),
// issued to this client for this redirect_uri, and bound to the certificate the client
// presented at PAR if it presented one. The tokens are bound to the certificate of this request
// (RFC 8705 §3; FAPI 2.0 SP §5.3.2.1-5: sender-constrained tokens only, F2-07).
//
// Every refusal about the code itself is invalid_grant with the same description, so an
// attacker holding a code learns nothing about why it failed; the reason goes to the log.
#include <algorithm>

#include "as/checks/pkce.hpp"
#include "as/client_policy.hpp"
#include "as/grants/grant_table.hpp"
#include "as/grants/refresh_tokens.hpp"
#include "as/id_token.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"

namespace fapigate::as {
namespace {

// FAPI 2.0 SP §5.3.2.1-11: codes expire within 60 s whatever the record says.
constexpr std::int64_t kMaxCodeLifetime = 60;
// A code is 32 CSPRNG bytes in base64url (43 characters); anything far longer is not ours.
constexpr std::size_t kMaxCodeBytes = 512;

OAuthError bad_code(std::string detail) {
  return oauth_error(OAuthErrc::InvalidGrant, "the authorization code is invalid",
                     std::move(detail));
}

std::optional<std::string_view> field(const Form& form, const char* name) {
  if (auto it = form.find(name); it != form.end()) {
    return std::string_view(it->second);
  }
  return std::nullopt;
}

bool has_scope(const std::vector<std::string>& scopes, std::string_view s) {
  return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
}

}  // namespace

OAuthResult<std::string> authorization_code_grant(const AsContext& ctx,
                                                  const http::Request& request, const Form& form,
                                                  const store::ClientRecord& client) {
  auto code = field(form, "code");
  if (!code || code->empty()) {
    return oauth_error(OAuthErrc::InvalidRequest, "code is required");
  }
  if (code->size() > kMaxCodeBytes) {
    return bad_code("code too long");
  }
  // F2-07 (FAPI 2.0 SP §5.3.2.1-5): every token is sender-constrained; without a certificate
  // there is nothing to bind to. Checked before the code is spent.
  if (!request.peer_certificate) {
    return oauth_error(OAuthErrc::InvalidRequest,
                       "a client certificate is required: tokens are certificate-bound");
  }
  const std::string& x5t = request.peer_certificate->x5t_s256;

  auto redeemed = ctx.store->redeem_code(crypto::sha256_b64url(*code));
  if (!redeemed) {
    return oauth_error(OAuthErrc::ServerError, "the server could not redeem the code",
                       "redeem_code failed: " + redeemed.error().message());
  }
  if (!*redeemed) {
    return bad_code("unknown code");
  }
  const store::AuthorizationCodeRecord& rec = (*redeemed)->code;
  if (!(*redeemed)->first_use) {
    // RFC 6749 §4.1.2 / §10.5: the code leaked or was replayed; whatever the first redemption
    // issued is revoked, whoever presents it now.
    if (auto r = ctx.store->revoke_grant(rec.grant_id); !r) {
      core::log::error("grant_revoke_failed",
                       {{"grant_id", rec.grant_id}, {"error", r.error().message()}});
    }
    core::log::warn("authorization_code_reused", {{"client_id", client.client_id},
                                                  {"owner", rec.client_id},
                                                  {"grant_id", rec.grant_id}});
    return bad_code("code already used; its grant is revoked");
  }
  const std::int64_t now = ctx.clock->now();
  if (now > std::min(rec.expires_at, rec.issued_at + kMaxCodeLifetime)) {
    return bad_code("code expired");
  }
  // RFC 6749 §4.1.3: issued to the authenticated client.
  if (rec.client_id != client.client_id) {
    return bad_code("code issued to another client: " + rec.client_id);
  }
  // RFC 6749 §4.1.3: identical to the authorization request's redirect_uri (always sent there
  // under FAPI, so required here).
  auto redirect_uri = field(form, "redirect_uri");
  if (!redirect_uri || *redirect_uri != rec.redirect_uri) {
    return bad_code(redirect_uri ? "redirect_uri mismatch" : "redirect_uri missing");
  }
  // RFC 7636 §4.6: S256 only; a missing verifier is as wrong as a wrong one.
  auto verifier = field(form, "code_verifier");
  if (!verifier || !pkce_s256_matches(rec.code_challenge, *verifier)) {
    return bad_code(verifier ? "PKCE verifier does not match" : "code_verifier missing");
  }
  // The code is bound to the certificate presented when the request was pushed: another
  // certificate cannot redeem it (fapi-requirements, "certificate mismatch on code").
  if (!rec.cnf_x5t_s256.empty() && !crypto::constant_time_equal(rec.cnf_x5t_s256, x5t)) {
    return oauth_error(OAuthErrc::InvalidGrant, "certificate mismatch on code",
                       "code bound to " + rec.cnf_x5t_s256.substr(0, 12) + ", presented " +
                           x5t.substr(0, 12));
  }

  const std::vector<std::string> scopes = core::split_scopes(rec.scope);
  const bool refreshable = has_scope(client.grant_types, "refresh_token");
  // The grant outlives the code: a refresh needs the user, auth_time and acr (OIDC Core §12.2)
  // and the consented scope (RFC 6749 §6).
  store::GrantRecord grant;
  grant.grant_id = rec.grant_id;
  grant.client_id = rec.client_id;
  grant.subject = rec.subject;
  grant.scope = rec.scope;
  grant.acr = rec.acr;
  grant.auth_time = rec.auth_time;
  grant.created_at = now;
  grant.expires_at =
      now + (refreshable ? ctx.settings.refresh_token_lifetime : ctx.settings.access_token_lifetime);
  if (auto put = ctx.store->put_grant(grant); !put) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue a token",
                       "put_grant failed: " + put.error().message());
  }

  AccessTokenParams params;
  params.client_id = client.client_id;
  params.subject = rec.subject;
  params.scopes = scopes;
  // RFC 8707: the resource named in the authorization request, else the default audiences.
  if (!rec.resource.empty()) {
    params.audiences = core::split_scopes(rec.resource);
  } else {
    params.audiences = ctx.settings.access_token_audiences;
  }
  if (params.audiences.empty()) {
    params.audiences.push_back(ctx.settings.issuer);
  }
  params.cnf_x5t_s256 = x5t;
  params.grant_id = rec.grant_id;
  auto access = issue_access_token(ctx, params);
  if (!access) {
    return access.error();
  }

  std::string refresh;
  if (refreshable) {
    RefreshTokenParams rt;
    rt.client_id = client.client_id;
    rt.subject = rec.subject;
    rt.scope = rec.scope;
    rt.audience = core::space_joined(params.audiences);
    rt.cnf_x5t_s256 = x5t;
    rt.grant_id = rec.grant_id;
    auto issued = issue_refresh_token(ctx, rt);
    if (!issued) {
      return issued.error();
    }
    refresh = std::move(*issued);
  }

  std::string id_token;
  if (has_scope(scopes, "openid")) {
    // OIDC Core §3.1.3.3, §3.1.3.6: at_hash over this access token; the request's nonce.
    IdTokenParams idp = id_token_params_for(client, client_policy(client, ctx.settings));
    idp.subject = rec.subject;
    idp.nonce = rec.nonce;
    idp.acr = rec.acr;
    idp.auth_time = rec.auth_time;
    idp.access_token = access->token;
    auto signed_id = issue_id_token(ctx, idp);
    if (!signed_id) {
      return signed_id.error();
    }
    id_token = std::move(*signed_id);
  }
  // RFC 6749 §4.1.2: a second use of this code may have revoked the grant while the tokens
  // above were written. Checked after the writes, so a revocation is either seen here or ran
  // after them and revoked them (store.hpp, grant_revoked).
  if (auto e = refuse_if_grant_revoked(ctx, rec.grant_id)) {
    return *e;
  }
  core::log::info("authorization_code_redeemed",
                  {{"client_id", client.client_id},
                   {"grant_id", rec.grant_id},
                   {"refresh_token", !refresh.empty()},
                   {"id_token", !id_token.empty()}});
  return token_response_body(*access, refresh, id_token);
}

}  // namespace fapigate::as
