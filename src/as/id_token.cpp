#include "as/id_token.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/base64url.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "jose/alg.hpp"
#include "jose/jws.hpp"

namespace fapigate::as {

std::string left_half_hash(std::string_view alg, std::string_view value) {
  // OIDC Core §3.1.3.6 (at_hash), §3.3.2.11 (c_hash), FAPI 1.0 Part 2 §5.2.2.1 (s_hash): the
  // hash is the one the JWS alg uses; Ed25519 signs with SHA-512 (RFC 8032 §5.1), which is
  // what the OpenID Foundation's conformance suite expects for EdDSA.
  auto parsed = jose::parse_alg(alg);
  if (!parsed) {
    return {};
  }
  const std::string digest =
      *parsed == jose::Alg::EdDSA ? crypto::sha512(value) : crypto::sha256(value);
  return core::base64url_encode(std::string_view(digest).substr(0, digest.size() / 2));
}

OAuthResult<std::string> issue_id_token(const AsContext& ctx, const IdTokenParams& params) {
  const std::string& alg_text =
      params.alg.empty() ? ctx.settings.signing_alg : params.alg;
  auto alg = jose::parse_alg(alg_text);
  // One view for the kid and the signer (a rotation may switch keys between two calls).
  const auto view = ctx.keys->view();
  const SigningKeys::AlgSigner* signing = alg ? view->signer_for(*alg) : nullptr;
  if (signing == nullptr) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue an ID token",
                       "no signing key for id_token alg '" + alg_text + "'");
  }
  const std::string_view alg_name = jose::alg_name(*alg);

  // OIDC Core §2: iss, sub, aud, exp, iat required; auth_time, nonce, acr, azp as applicable.
  const std::int64_t now = ctx.clock->now();
  boost::json::object claims;
  claims["iss"] = ctx.settings.issuer;
  claims["sub"] = params.subject;
  claims["aud"] = params.client_id;
  claims["exp"] = now + ctx.settings.id_token_lifetime;
  claims["iat"] = now;
  if (params.auth_time > 0) {
    claims["auth_time"] = params.auth_time;
  }
  if (!params.nonce.empty()) {
    claims["nonce"] = params.nonce;
  }
  if (!params.acr.empty()) {
    claims["acr"] = params.acr;
  }
  // azp with a single audience equal to it is allowed (Core §2) and what FAPI suites expect.
  claims["azp"] = params.client_id;
  if (!params.access_token.empty()) {
    claims["at_hash"] = left_half_hash(alg_name, params.access_token);
  }
  if (!params.code.empty()) {
    claims["c_hash"] = left_half_hash(alg_name, params.code);
  }
  if (!params.state.empty()) {
    claims["s_hash"] = left_half_hash(alg_name, params.state);
  }
  auto token = jose::sign_compact(boost::json::serialize(claims), *signing->signer, signing->kid);
  if (!token) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue an ID token",
                       "signing failed: " + token.error().message());
  }
  core::log::info("id_token_issued", {{"client_id", params.client_id},
                                      {"alg", alg_name},
                                      {"kid", signing->kid}});
  return std::move(*token);
}

}  // namespace fapigate::as
