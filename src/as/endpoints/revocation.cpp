// RFC 7009 token revocation. The client authenticates exactly as at the token endpoint; a token
// is found as issued_tokens.hpp says whatever its format (JWT or opaque) or kind, and only the client it was
// issued to can revoke it. Every outcome short of a refused request is 200 (RFC 7009 §2.2), so
// the endpoint tells nobody whether a token exists or whose it is (fapi-requirements RV-01/02).
#include "as/checks/client_auth.hpp"
#include "as/endpoints/endpoints.hpp"
#include "as/issued_tokens.hpp"
#include "core/log.hpp"

namespace fapigate::as {
namespace {

// Longer than any token we issue (JWTs are bounded by the verifier's 16 KiB limit): not ours.
constexpr std::size_t kMaxTokenBytes = 16 * 1024;

http::Response refuse(const OAuthError& e, const std::string& client_id) {
  auto level = e.code == OAuthErrc::ServerError || e.code == OAuthErrc::TemporarilyUnavailable
                   ? core::log::Level::Error
                   : core::log::Level::Warn;
  core::log::write(level, "revocation_refused",
                   {{"error", std::string(errc_name(e.code))},
                    {"client_id", client_id},
                    {"detail", e.detail.empty() ? e.description : e.detail}});
  auto r = to_response(e);
  if (e.code == OAuthErrc::TemporarilyUnavailable) {
    // RFC 7009 §2.2.1: 503 tells the client to retry later.
    r.headers.add("Retry-After", "5");
  }
  return r;
}

// RFC 7009 §2.2: 200 whatever became of the token; the body is ignored by the client.
http::Response revoked() {
  http::Response r;
  r.status = 200;
  r.headers.add("Cache-Control", "no-store");
  r.headers.add("Pragma", "no-cache");
  return r;
}

// A stored token gets its revoked flag. A self-contained one (issued_tokens.hpp) was never
// stored: its revocation is a revoked row by its hash, which find_issued_token finds before it
// looks at the claims. Two revocations racing to write that row both succeed.
Result<void> revoke(const AsContext& ctx, const FoundToken& found) {
  if (found.in_store) {
    return ctx.store->revoke_token(found.record.token_hash);
  }
  store::TokenRecord row = found.record;
  row.revoked = true;
  if (auto put = ctx.store->put_token(row); !put) {
    auto again = ctx.store->find_token(row.token_hash);
    if (!again || !*again) {
      return put.error();
    }
    return ctx.store->revoke_token(row.token_hash);
  }
  return {};
}

}  // namespace

http::Response revocation_endpoint(const AsContext& ctx, const http::Request& request) {
  auto form = read_form(request);
  if (!form) {
    return refuse(form.error(), {});
  }
  // RFC 7009 §2.1: confidential clients authenticate; a failure is invalid_client (§2.2.1).
  auto client = authenticate_client(ctx, request, *form);
  if (!client) {
    return refuse(client.error(), {});
  }
  auto token = form->find("token");
  if (token == form->end() || token->second.empty()) {
    return refuse(oauth_error(OAuthErrc::InvalidRequest, "token is required"),
                  client->client_id);
  }
  // token_type_hint (RFC 7009 §2.1) is only a hint: the lookup by hash covers access and refresh
  // tokens alike, so any value, known or not, changes nothing and never fails the request.
  if (token->second.size() > kMaxTokenBytes) {
    core::log::info("revocation_unknown_token", {{"client_id", client->client_id}});
    return revoked();
  }
  auto record = find_issued_token(ctx, token->second);
  if (!record) {
    return refuse(oauth_error(OAuthErrc::TemporarilyUnavailable,
                              "the server could not revoke the token now; retry later",
                              "store lookup failed: " + record.error().message()),
                  client->client_id);
  }
  if (!*record ||
      ((*record)->record.kind != "access_token" && (*record)->record.kind != "refresh_token")) {
    // RFC 7009 §2.2: an invalid or unknown token is not an error. Authorization codes are not
    // tokens a client holds past the token request, so they are unknown here too.
    core::log::info("revocation_unknown_token", {{"client_id", client->client_id}});
    return revoked();
  }
  const store::TokenRecord& rec = (*record)->record;
  if (rec.client_id != client->client_id) {
    // RFC 7009 §2.1: the AS checks the token was issued to the caller. Another client's token
    // is left alone, and the answer is the same 200, so it does not confirm the token exists.
    core::log::warn("revocation_not_owner",
                    {{"client_id", client->client_id}, {"owner", rec.client_id}, {"jti", rec.jti}});
    return revoked();
  }
  if (auto r = revoke(ctx, **record); !r) {
    return refuse(oauth_error(OAuthErrc::TemporarilyUnavailable,
                              "the server could not revoke the token now; retry later",
                              "revoke_token failed: " + r.error().message()),
                  client->client_id);
  }
  if (rec.kind == "refresh_token" && !rec.grant_id.empty()) {
    // RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of its grant.
    // (Revoking an access token leaves the refresh token alone, which §2.1 allows.)
    if (auto r = ctx.store->revoke_grant(rec.grant_id); !r) {
      return refuse(oauth_error(OAuthErrc::TemporarilyUnavailable,
                                "the server could not revoke the token now; retry later",
                                "revoke_grant failed: " + r.error().message()),
                    client->client_id);
    }
  }
  core::log::info("token_revoked",
                  {{"client_id", client->client_id}, {"jti", rec.jti}, {"kind", rec.kind}});
  return revoked();
}

}  // namespace fapigate::as
