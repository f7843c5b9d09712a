#include "as/issued_tokens.hpp"

#include <algorithm>

#include "as/token_issuer.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "jose/jws.hpp"
#include "jose/jwt_claims.hpp"

namespace fapigate::as {
namespace {

// Opaque tokens we issue are 43 base64url characters; anything longer or with other characters
// was not issued here and is not worth a store lookup.
constexpr std::size_t kMaxOpaqueTokenBytes = 256;
// RFC 9068 §2.1: the typ of a JWT access token. Our ID tokens, JARM responses and signed
// introspection answers carry the same signature but another typ, and are never access tokens.
constexpr std::string_view kAccessTokenTyp = "at+jwt";

bool is_base64url(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  });
}

// The store record a self-contained access token stands for, from its verified claims; nullopt
// when the claims are not those of an access token this issuer wrote (token_issuer.cpp).
std::optional<store::TokenRecord> record_from_claims(const AsContext& ctx,
                                                     const jose::ParsedJws& jws,
                                                     std::string token_hash) {
  if (jws.typ != kAccessTokenTyp) {
    return std::nullopt;
  }
  auto claims = jose::parse_claims(jws.payload);
  if (!claims) {
    return std::nullopt;
  }
  const auto iss = core::get_string(*claims, "iss");
  const auto client_id = core::get_string(*claims, "client_id");
  const auto sub = core::get_string(*claims, "sub");
  const auto jti = core::get_string(*claims, "jti");
  const auto iat = core::get_int(*claims, "iat");
  const auto exp = core::get_int(*claims, "exp");
  if (!iss || *iss != ctx.settings.issuer || !client_id || !sub || !jti || !iat || !exp) {
    return std::nullopt;
  }
  store::TokenRecord rec;
  rec.token_hash = std::move(token_hash);
  rec.kind = "access_token";
  rec.jti = std::string(*jti);
  rec.client_id = std::string(*client_id);
  rec.subject = std::string(*sub);
  if (auto scope = core::get_string(*claims, "scope")) {
    rec.scope = std::string(*scope);
  }
  rec.audience = core::space_joined(jose::audiences_of(*claims));
  if (const auto* cnf = core::get_object(*claims, "cnf")) {
    if (auto x5t = core::get_string(*cnf, "x5t#S256")) {
      rec.cnf_x5t_s256 = std::string(*x5t);
    }
  }
  rec.issued_at = *iat;
  rec.expires_at = *exp;
  return rec;
}

}  // namespace

Result<std::optional<FoundToken>> find_issued_token(const AsContext& ctx, std::string_view token) {
  std::optional<jose::ParsedJws> jws;
  if (token.find('.') != std::string_view::npos) {
    // Every allowed alg: tokens signed before a signing_alg change stay valid while their key
    // is published; the verifier set binds each kid to its key type. A forged JWT never
    // reaches the store.
    auto verified = jose::verify_compact(token, jose::kAllAlgs, ctx.keys->verifiers());
    if (!verified) {
      return std::optional<FoundToken>();
    }
    jws = std::move(*verified);
  } else if (token.size() > kMaxOpaqueTokenBytes || !is_base64url(token)) {
    return std::optional<FoundToken>();
  }
  std::string hash = crypto::sha256_b64url(token);
  auto stored = ctx.store->find_token(hash);
  if (!stored) {
    return stored.error();
  }
  if (*stored) {
    return std::optional<FoundToken>(FoundToken{std::move(**stored), true});
  }
  if (!jws || ctx.settings.record_client_credentials_tokens) {
    // Recording every token makes the store the whole truth: a signature alone is not enough.
    return std::optional<FoundToken>();
  }
  auto rebuilt = record_from_claims(ctx, *jws, std::move(hash));
  if (!rebuilt) {
    return std::optional<FoundToken>();
  }
  // A stored token goes with its client (RFC 7592 §2.3, ON DELETE CASCADE); one that was never
  // stored goes when the client is no longer registered.
  auto client = ctx.find_client(rebuilt->client_id);
  if (!client) {
    return client.error();
  }
  if (!*client) {
    return std::optional<FoundToken>();
  }
  return std::optional<FoundToken>(FoundToken{std::move(*rebuilt), false});
}

}  // namespace fapigate::as
