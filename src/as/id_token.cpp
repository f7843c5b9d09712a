#include "as/id_token.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/base64url.hpp"
#include "core/log.hpp"
#include "crypto/digest.hpp"
#include "jose/alg.hpp"
#include "jose/jwe.hpp"
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

IdTokenParams id_token_params_for(const store::ClientRecord& client, const ClientPolicy& policy) {
  IdTokenParams p;
  p.client_id = client.client_id;
  p.alg = policy.id_token_signed_response_alg;
  p.encryption_alg = policy.id_token_encrypted_response_alg;
  p.encryption_enc = policy.id_token_encrypted_response_enc;
  if (!p.encryption_alg.empty()) {
    p.client_jwks_json = client.jwks_json;
  }
  return p;
}

namespace {

// OIDC Core §10.2: sign, then encrypt, with "cty":"JWT" marking the nested JWT. Registration
// and the configuration check make sure the client has a key for its alg; a client whose keys
// changed since is a server-side inconsistency, never a reason to send the token in the clear.
OAuthResult<std::string> encrypt_for_client(const IdTokenParams& params, std::string signed_jwt) {
  auto alg = jose::parse_key_management_alg(params.encryption_alg);
  // OIDC Registration §2: with only the alg registered, enc defaults to A128CBC-HS256.
  auto enc = params.encryption_enc.empty()
                 ? std::optional(jose::ContentEncryption::A128CbcHs256)
                 : jose::parse_content_encryption(params.encryption_enc);
  if (!alg || !enc) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue an ID token",
                       "unsupported id_token encryption '" + params.encryption_alg + "' / '" +
                           params.encryption_enc + "' for client " + params.client_id);
  }
  auto key = jose::find_encryption_key(params.client_jwks_json, *alg);
  if (!key) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue an ID token",
                       "client " + params.client_id + ": " + key.error().message());
  }
  auto jwe = jose::encrypt_compact(signed_jwt, key->key, {*alg, *enc, key->kid, "JWT"});
  if (!jwe) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue an ID token",
                       "encryption failed: " + jwe.error().message());
  }
  return std::move(*jwe);
}

}  // namespace

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
  if (!params.encryption_alg.empty()) {
    auto encrypted = encrypt_for_client(params, std::move(*token));
    if (!encrypted) {
      return encrypted.error();
    }
    token = std::move(*encrypted);
  }
  core::log::info("id_token_issued", {{"client_id", params.client_id},
                                      {"alg", alg_name},
                                      {"kid", signing->kid},
                                      {"encrypted", params.encryption_alg.empty() ? "no" : "yes"}});
  return std::move(*token);
}

}  // namespace fapigate::as
