// refresh_token (RFC 6749 §6). A refresh token is bound to the client it was issued to and to
// the certificate that client presented (RFC 8705 §3; issue 3: "a different certificate gets
// invalid_grant"); the scope may be narrowed, never widened (§6). Rotation with reuse
// detection (OAuth 2.0 Security BCP §4.14.2) is a per-client choice that FAPI 2.0 clients never
// get (FAPI 2.0 SP §5.3.2.1-9: refresh tokens are not rotated, except when they expire): when
// rotating, each use replaces the token, and presenting a replaced (revoked) token again
// revokes the whole grant.
#include <algorithm>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "as/client_policy.hpp"
#include "as/grants/grant_table.hpp"
#include "as/grants/refresh_tokens.hpp"
#include "as/id_token.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"

namespace fapigate::as {
namespace {

// Refresh tokens are 43 base64url characters; anything far longer is not ours.
constexpr std::size_t kMaxRefreshTokenBytes = 512;
constexpr std::size_t kRefreshTokenBytes = 32;

OAuthError bad_refresh(std::string detail) {
  return oauth_error(OAuthErrc::InvalidGrant, "the refresh token is invalid", std::move(detail));
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += out.empty() ? s : " " + s;
  }
  return out;
}

}  // namespace

OAuthResult<std::string> issue_refresh_token(const AsContext& ctx,
                                             const RefreshTokenParams& params) {
  std::string token = crypto::random_token(kRefreshTokenBytes);
  store::TokenRecord rec;
  rec.token_hash = crypto::sha256_b64url(token);
  rec.kind = std::string(kRefreshTokenKind);
  rec.jti = crypto::unique_id(16);
  rec.client_id = params.client_id;
  rec.subject = params.subject;
  rec.scope = params.scope;
  rec.audience = params.audience;
  rec.cnf_x5t_s256 = params.cnf_x5t_s256;
  rec.issued_at = ctx.clock->now();
  rec.expires_at = rec.issued_at + ctx.settings.refresh_token_lifetime;
  rec.grant_id = params.grant_id;
  if (auto put = ctx.store->put_token(rec); !put) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue a token",
                       "store failed: " + put.error().message());
  }
  core::log::info("refresh_token_issued", {{"client_id", params.client_id},
                                           {"jti", rec.jti},
                                           {"grant_id", params.grant_id},
                                           {"cnf", params.cnf_x5t_s256.substr(0, 12)}});
  return token;
}

std::optional<OAuthError> refuse_if_grant_revoked(const AsContext& ctx,
                                                  const std::string& grant_id) {
  auto revoked = ctx.store->grant_revoked(grant_id);
  if (!revoked) {
    // The tokens exist but the client never receives them.
    return oauth_error(OAuthErrc::ServerError, "the server could not issue a token",
                       "grant_revoked failed: " + revoked.error().message());
  }
  if (!*revoked) {
    return std::nullopt;
  }
  if (auto r = ctx.store->revoke_grant(grant_id); !r) {
    core::log::error("grant_revoke_failed", {{"grant_id", grant_id}, {"error", r.error().message()}});
  }
  core::log::warn("grant_revoked_during_issuance", {{"grant_id", grant_id}});
  return oauth_error(OAuthErrc::InvalidGrant, "the grant was revoked",
                     "grant " + grant_id.substr(0, 8) + " revoked while its tokens were issued");
}

std::string token_response_body(const IssuedAccessToken& access, const std::string& refresh_token,
                                const std::string& id_token) {
  boost::json::object body;
  body["access_token"] = access.token;
  // RFC 8705 §3: certificate-bound tokens keep the Bearer type.
  body["token_type"] = "Bearer";
  body["expires_in"] = access.expires_at - access.issued_at;
  body["scope"] = access.scope;
  if (!refresh_token.empty()) {
    body["refresh_token"] = refresh_token;
  }
  if (!id_token.empty()) {
    body["id_token"] = id_token;
  }
  return boost::json::serialize(body);
}

OAuthResult<std::string> refresh_token_grant(const AsContext& ctx, const http::Request& request,
                                             const Form& form, const store::ClientRecord& client) {
  auto presented = form.find("refresh_token");
  if (presented == form.end() || presented->second.empty()) {
    return oauth_error(OAuthErrc::InvalidRequest, "refresh_token is required");
  }
  if (!request.peer_certificate) {
    // F2-07: the new access token must be bound, and the refresh token's binding checked.
    return oauth_error(OAuthErrc::InvalidRequest,
                       "a client certificate is required: tokens are certificate-bound");
  }
  const std::string& x5t = request.peer_certificate->x5t_s256;
  if (presented->second.size() > kMaxRefreshTokenBytes) {
    return bad_refresh("refresh token too long");
  }
  const std::string hash = crypto::sha256_b64url(presented->second);
  auto found = ctx.store->find_token(hash);
  if (!found) {
    return oauth_error(OAuthErrc::ServerError, "the server could not refresh the token",
                       "find_token failed: " + found.error().message());
  }
  if (!*found || (*found)->kind != kRefreshTokenKind) {
    return bad_refresh("unknown refresh token");
  }
  const store::TokenRecord& rec = **found;
  // RFC 6749 §6: bound to the client it was issued to.
  if (rec.client_id != client.client_id) {
    return bad_refresh("refresh token issued to another client: " + rec.client_id);
  }
  const ClientPolicy policy = client_policy(client, ctx.settings);
  if (rec.revoked) {
    // A revoked refresh token comes back: rotated out (the Security BCP's reuse detection), or
    // revoked by the client or with its grant. Either way the grant is no longer trusted.
    if (auto r = ctx.store->revoke_grant(rec.grant_id); !r) {
      core::log::error("grant_revoke_failed",
                       {{"grant_id", rec.grant_id}, {"error", r.error().message()}});
    }
    core::log::warn("refresh_token_reused",
                    {{"client_id", client.client_id}, {"jti", rec.jti}, {"grant_id", rec.grant_id}});
    return bad_refresh("revoked refresh token presented; its grant is revoked");
  }
  const std::int64_t now = ctx.clock->now();
  if (rec.expires_at <= now) {
    return bad_refresh("refresh token expired");
  }
  // RFC 8705 §3 / issue 3: bound to the certificate the client presented when it was issued.
  if (rec.cnf_x5t_s256.empty() || !crypto::constant_time_equal(rec.cnf_x5t_s256, x5t)) {
    return oauth_error(OAuthErrc::InvalidGrant, "certificate mismatch on refresh token",
                       "bound to " + rec.cnf_x5t_s256.substr(0, 12) + ", presented " +
                           x5t.substr(0, 12));
  }

  auto grant = ctx.store->find_grant(rec.grant_id);
  if (!grant) {
    return oauth_error(OAuthErrc::ServerError, "the server could not refresh the token",
                       "find_grant failed: " + grant.error().message());
  }
  // RFC 6749 §6: the scope requested may not exceed what was originally granted.
  const std::vector<std::string> granted =
      core::split_scopes(*grant ? (*grant)->scope : rec.scope);
  std::vector<std::string> scopes = core::split_scopes(rec.scope);
  if (auto requested = form.find("scope"); requested != form.end()) {
    scopes = core::split_scopes(requested->second);
    if (scopes.empty()) {
      return oauth_error(OAuthErrc::InvalidScope, "scope is empty");
    }
    for (const auto& s : scopes) {
      if (!contains(granted, s)) {
        return oauth_error(OAuthErrc::InvalidScope,
                           "the requested scope exceeds what was originally granted");
      }
    }
  }

  std::string refresh = presented->second;
  if (policy.refresh_token_rotation) {
    // The old token is spent before its successor exists: a crash in between costs the client
    // a re-authorization, never leaves two live tokens. Spent by exactly one request: a
    // concurrent refresh with the same token loses here and is a reuse (RFC 9700 §4.14.2).
    auto spent = ctx.store->revoke_token_if_active(hash);
    if (!spent) {
      return oauth_error(OAuthErrc::ServerError, "the server could not refresh the token",
                         "revoke_token_if_active failed: " + spent.error().message());
    }
    if (!*spent) {
      if (auto r = ctx.store->revoke_grant(rec.grant_id); !r) {
        core::log::error("grant_revoke_failed",
                         {{"grant_id", rec.grant_id}, {"error", r.error().message()}});
      }
      core::log::warn("refresh_token_reused", {{"client_id", client.client_id},
                                               {"jti", rec.jti},
                                               {"grant_id", rec.grant_id},
                                               {"concurrent", true}});
      return bad_refresh("refresh token already used; its grant is revoked");
    }
    RefreshTokenParams rt;
    rt.client_id = rec.client_id;
    rt.subject = rec.subject;
    rt.scope = rec.scope;  // the refresh token keeps the full grant; only the AT is narrowed
    rt.audience = rec.audience;
    rt.cnf_x5t_s256 = rec.cnf_x5t_s256;
    rt.grant_id = rec.grant_id;
    auto issued = issue_refresh_token(ctx, rt);
    if (!issued) {
      return issued.error();
    }
    refresh = std::move(*issued);
    if (*grant) {
      store::GrantRecord g = **grant;
      g.expires_at = std::max(g.expires_at, now + ctx.settings.refresh_token_lifetime);
      (void)ctx.store->put_grant(g);  // only extends a window; a failure is not fatal
    }
  }

  AccessTokenParams params;
  params.client_id = client.client_id;
  params.subject = rec.subject;
  params.scopes = scopes;
  params.audiences = core::split_scopes(rec.audience);
  if (params.audiences.empty()) {
    params.audiences.push_back(ctx.settings.issuer);
  }
  params.cnf_x5t_s256 = x5t;
  params.grant_id = rec.grant_id;
  auto access = issue_access_token(ctx, params);
  if (!access) {
    return access.error();
  }

  std::string id_token;
  if (contains(scopes, "openid")) {
    // OIDC Core §12.2: same iss, sub, aud; auth_time of the original authentication; no nonce.
    IdTokenParams idp = id_token_params_for(client, policy);
    idp.subject = rec.subject;
    if (*grant) {
      idp.acr = (*grant)->acr;
      idp.auth_time = (*grant)->auth_time;
    }
    idp.access_token = access->token;
    auto signed_id = issue_id_token(ctx, idp);
    if (!signed_id) {
      return signed_id.error();
    }
    id_token = std::move(*signed_id);
  }
  // A reuse, a revocation or a consent withdrawal may have revoked the grant while this
  // refresh wrote its tokens (store.hpp, grant_revoked).
  if (auto e = refuse_if_grant_revoked(ctx, rec.grant_id)) {
    return *e;
  }
  core::log::info("refresh_token_used", {{"client_id", client.client_id},
                                         {"jti", rec.jti},
                                         {"rotated", policy.refresh_token_rotation},
                                         {"scope", join(scopes)}});
  return token_response_body(*access, refresh, id_token);
}

}  // namespace fapigate::as
