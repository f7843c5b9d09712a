#include "as/token_issuer.hpp"

#include <boost/json/serialize.hpp>

#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "jose/jws.hpp"

namespace fapigate::as {
namespace {

OAuthResult<std::string> sign_jwt(const AsContext& ctx, const AccessTokenParams& params,
                                  const IssuedAccessToken& out) {
  // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti required; scope when granted.
  boost::json::object claims;
  claims["iss"] = ctx.settings.issuer;
  claims["sub"] = params.subject;
  if (params.audiences.size() == 1) {
    claims["aud"] = params.audiences.front();
  } else {
    boost::json::array aud;
    for (const auto& a : params.audiences) {
      aud.emplace_back(a);
    }
    claims["aud"] = std::move(aud);
  }
  claims["client_id"] = params.client_id;
  claims["iat"] = out.issued_at;
  claims["exp"] = out.expires_at;
  claims["jti"] = out.jti;
  if (!out.scope.empty()) {
    claims["scope"] = out.scope;
  }
  if (!params.cnf_x5t_s256.empty()) {
    claims["cnf"] = boost::json::object{{"x5t#S256", params.cnf_x5t_s256}};
  }
  // One view for both: the kid in the header must name the key that signs (a rotation may
  // switch keys between two separate calls).
  const auto signing = ctx.keys->view();
  auto token = jose::sign_compact(boost::json::serialize(claims), *signing->signer, signing->kid,
                                  "at+jwt");
  if (!token) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue a token",
                       "signing failed: " + token.error().message());
  }
  return std::move(*token);
}

}  // namespace

OAuthResult<IssuedAccessToken> issue_access_token(const AsContext& ctx,
                                                  const AccessTokenParams& params) {
  IssuedAccessToken out;
  out.issued_at = ctx.clock->now();
  out.expires_at = out.issued_at + ctx.settings.access_token_lifetime;
  out.jti = crypto::random_token(16);
  for (const auto& s : params.scopes) {
    if (!out.scope.empty()) {
      out.scope += ' ';
    }
    out.scope += s;
  }

  out.format = config::access_token_format_for(ctx.settings, params.audiences);
  if (out.format == config::AccessTokenFormat::Opaque) {
    // A reference token carries nothing: every claim stays in the store record below.
    out.token = crypto::random_token(kOpaqueTokenBytes);
  } else if (auto signed_token = sign_jwt(ctx, params, out); !signed_token) {
    return signed_token.error();
  } else {
    out.token = std::move(*signed_token);
  }

  store::TokenRecord rec;
  rec.token_hash = crypto::sha256_b64url(out.token);
  rec.kind = "access_token";
  rec.jti = out.jti;
  rec.client_id = params.client_id;
  rec.subject = params.subject;
  rec.scope = out.scope;
  for (const auto& a : params.audiences) {
    rec.audience += rec.audience.empty() ? a : " " + a;
  }
  rec.cnf_x5t_s256 = params.cnf_x5t_s256;
  rec.issued_at = out.issued_at;
  rec.expires_at = out.expires_at;
  rec.grant_id = params.grant_id;
  // Stored before it is returned: a token the client holds is always one the store knows.
  if (auto put = ctx.store->put_token(rec); !put) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue a token",
                       "store failed: " + put.error().message());
  }
  core::log::info("token_issued", {{"client_id", params.client_id},
                                   {"jti", out.jti},
                                   {"scope", out.scope},
                                   {"format", out.format == config::AccessTokenFormat::Opaque
                                                  ? "opaque"
                                                  : "jwt"},
                                   {"cnf", params.cnf_x5t_s256.substr(0, 12)}});
  return out;
}

}  // namespace fapigate::as
