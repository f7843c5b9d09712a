#include "as/token_issuer.hpp"

#include <charconv>
#include <cstdint>
#include <string_view>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "jose/jws.hpp"

namespace fapigate::as {
namespace {

// Appends `"value"` as a JSON string. Issuer, client_id, scope and the rest are almost always
// plain printable ASCII, written as they are; anything else goes through the JSON serializer.
void append_json_string(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c < 0x20 || c == '"' || c == '\\' || c == 0x7F) {  // also every byte >= 0x80 (signed)
      out += core::json_quote(value);
      return;
    }
  }
  out.push_back('"');
  out += value;
  out.push_back('"');
}

void append_member(std::string& out, std::string_view key, std::string_view value) {
  out += key;  // a literal `"name":`
  append_json_string(out, value);
}

void append_member(std::string& out, std::string_view key, std::int64_t value) {
  out += key;
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
}

OAuthResult<std::string> sign_jwt(const AsContext& ctx, const AccessTokenParams& params,
                                  const IssuedAccessToken& out) {
  // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti required; scope when granted.
  // Written straight into one string (no JSON tree per token), in the order a tree gave.
  std::string claims;
  claims.reserve(256 + ctx.settings.issuer.size() + params.subject.size() + out.scope.size());
  append_member(claims, R"({"iss":)", ctx.settings.issuer);
  append_member(claims, R"(,"sub":)", params.subject);
  if (params.audiences.size() == 1) {
    append_member(claims, R"(,"aud":)", params.audiences.front());
  } else {
    claims += R"(,"aud":[)";
    for (std::size_t i = 0; i < params.audiences.size(); ++i) {
      if (i > 0) {
        claims.push_back(',');
      }
      append_json_string(claims, params.audiences[i]);
    }
    claims.push_back(']');
  }
  append_member(claims, R"(,"client_id":)", params.client_id);
  append_member(claims, R"(,"iat":)", out.issued_at);
  append_member(claims, R"(,"exp":)", out.expires_at);
  append_member(claims, R"(,"jti":)", out.jti);
  if (!out.scope.empty()) {
    append_member(claims, R"(,"scope":)", out.scope);
  }
  if (!params.cnf_x5t_s256.empty()) {
    append_member(claims, R"(,"cnf":{"x5t#S256":)", params.cnf_x5t_s256);
    claims.push_back('}');
  }
  claims.push_back('}');
  // One view for both: the kid in the header must name the key that signs (a rotation may
  // switch keys between two separate calls).
  const auto signing = ctx.keys->view();
  auto token = jose::sign_compact(claims, *signing->signer, signing->kid, "at+jwt");
  if (!token) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue a token",
                       "signing failed: " + token.error().message());
  }
  return std::move(*token);
}

}  // namespace

OAuthResult<PreparedAccessToken> prepare_access_token(const AsContext& ctx,
                                                      const AccessTokenParams& params) {
  PreparedAccessToken prepared;
  IssuedAccessToken& out = prepared.issued;
  out.issued_at = ctx.clock->now();
  out.expires_at = out.issued_at + ctx.settings.access_token_lifetime;
  out.jti = crypto::unique_id(16);
  out.scope = core::space_joined(params.scopes);

  out.format = config::access_token_format_for(ctx.settings, params.audiences);
  if (out.format == config::AccessTokenFormat::Opaque) {
    // A reference token carries nothing: every claim stays in the store record below.
    out.token = crypto::random_token(kOpaqueTokenBytes);
  } else if (auto signed_token = sign_jwt(ctx, params, out); !signed_token) {
    return signed_token.error();
  } else {
    out.token = std::move(*signed_token);
  }

  store::TokenRecord& rec = prepared.record;
  rec.token_hash = crypto::sha256_b64url(out.token);
  rec.kind = "access_token";
  rec.jti = out.jti;
  rec.client_id = params.client_id;
  rec.subject = params.subject;
  rec.scope = out.scope;
  rec.audience = core::space_joined(params.audiences);
  rec.cnf_x5t_s256 = params.cnf_x5t_s256;
  rec.issued_at = out.issued_at;
  rec.expires_at = out.expires_at;
  rec.grant_id = params.grant_id;
  prepared.store_record = !(params.self_contained && params.grant_id.empty() &&
                            out.format == config::AccessTokenFormat::Jwt &&
                            !ctx.settings.record_client_credentials_tokens);
  return prepared;
}

void log_token_issued(const PreparedAccessToken& token) {
  if (!core::log::enabled(core::log::Level::Info)) {
    return;  // the fields below cost more than the check
  }
  const auto& rec = token.record;
  core::log::info("token_issued",
                  {{"client_id", rec.client_id},
                   {"jti", rec.jti},
                   {"scope", rec.scope},
                   {"format", token.issued.format == config::AccessTokenFormat::Opaque ? "opaque"
                                                                                        : "jwt"},
                   {"cnf", rec.cnf_x5t_s256.substr(0, 12)}});
}

OAuthResult<IssuedAccessToken> issue_access_token(const AsContext& ctx,
                                                  const AccessTokenParams& params) {
  auto prepared = prepare_access_token(ctx, params);
  if (!prepared) {
    return prepared.error();
  }
  // Stored before it is returned: a token the client holds is always one the store knows (or,
  // self-contained, one its signed claims describe).
  if (!prepared->store_record) {
    log_token_issued(*prepared);
    return std::move(prepared->issued);
  }
  if (auto put = ctx.store->put_token(prepared->record); !put) {
    return oauth_error(OAuthErrc::ServerError, "the server could not issue a token",
                       "store failed: " + put.error().message());
  }
  log_token_issued(*prepared);
  return std::move(prepared->issued);
}

}  // namespace fapigate::as
