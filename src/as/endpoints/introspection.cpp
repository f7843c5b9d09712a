// RFC 7662 token introspection, for resource servers and the gateway's phantom-token path, with
// the RFC 9701 signed-JWT answer on request. Accepts both access-token formats: JWTs (our own
// signature checked first; a self-contained one described by its claims) and opaque reference
// tokens (looked up by their SHA-256 alone), see issued_tokens.hpp.
//
// Who may see what (docs/CONFIG.md, "Who may introspect what"): the details of a token go to the
// client it was issued to, and to the clients a resource server in its aud is configured to
// introspect with. Everyone else gets {"active":false}, the same answer as for an unknown token,
// so a partner cannot learn whether another partner's token exists (fapi-requirements N-102).
#include <algorithm>

#include <boost/json/serialize.hpp>

#include "as/checks/client_auth.hpp"
#include "as/endpoints/endpoints.hpp"
#include "as/issued_tokens.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "jose/jws.hpp"

namespace fapigate::as {
namespace {

// RFC 9701 §4, §9.2: the media type a resource server sends in Accept to get a JWT answer.
constexpr std::string_view kIntrospectionJwtType = "application/token-introspection+jwt";
// The JWS "typ" of that answer (RFC 9701 §5), the media type without "application/".
constexpr std::string_view kIntrospectionJwtTyp = "token-introspection+jwt";
// A quality value of zero means "not acceptable" (RFC 9110 §12.4.2): "0", "0.", "0.0"...
bool is_zero_qvalue(std::string_view q) {
  return !q.empty() && q.front() == '0' &&
         std::all_of(q.begin(), q.end(), [](char c) { return c == '0' || c == '.'; });
}

// True when an Accept field lists application/token-introspection+jwt with a non-zero q
// (RFC 9110 §12.5.1). Every Accept field counts; anything else keeps the RFC 7662 JSON answer.
bool wants_jwt(const http::Request& request) {
  for (const auto& field : request.headers) {
    if (!core::iequals(field.name, "Accept")) {
      continue;
    }
    for (auto range : core::split(field.value, ',')) {
      auto parts = core::split(range, ';');
      if (!core::iequals(core::trim(parts.front()), kIntrospectionJwtType)) {
        continue;
      }
      bool refused = false;
      for (std::size_t i = 1; i < parts.size(); ++i) {
        auto param = core::trim(parts[i]);
        if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
          refused = is_zero_qvalue(core::trim(param.substr(2)));
        }
      }
      if (!refused) {
        return true;
      }
    }
  }
  return false;
}

bool contains(const std::vector<std::string>& values, std::string_view wanted) {
  return std::find(values.begin(), values.end(), wanted) != values.end();
}

// A resource server is a client some resources[] entry lists in introspection_clients.
bool is_resource_server(const AsContext& ctx, std::string_view client_id) {
  for (const auto& rs : ctx.settings.resources) {
    if (contains(rs.introspection_clients, client_id)) {
      return true;
    }
  }
  return false;
}

// A client asking about a token issued to itself, where introspection_by_token_owner allows it.
bool owner_may_introspect(const AsContext& ctx, const store::ClientRecord& caller,
                          const store::TokenRecord& rec) {
  return ctx.settings.introspection_by_token_owner && rec.client_id == caller.client_id;
}

// RFC 7662 §4: the AS decides which tokens a protected resource may learn about.
bool may_introspect(const AsContext& ctx, const store::ClientRecord& caller,
                    const store::TokenRecord& rec) {
  if (owner_may_introspect(ctx, caller, rec)) {
    return true;
  }
  const auto audiences = core::split_scopes(rec.audience);
  for (const auto& rs : ctx.settings.resources) {
    if (contains(rs.introspection_clients, caller.client_id) && contains(audiences, rs.audience)) {
      return true;
    }
  }
  return false;
}

// The RFC 7662 §2.2 object of an active access token.
boost::json::object describe(const AsContext& ctx, const store::TokenRecord& rec) {
  boost::json::object out;
  out["active"] = true;
  out["iss"] = ctx.settings.issuer;
  out["client_id"] = rec.client_id;
  out["sub"] = rec.subject;
  if (!rec.scope.empty()) {
    out["scope"] = rec.scope;
  }
  auto audiences = core::split_scopes(rec.audience);
  if (audiences.size() == 1) {
    out["aud"] = audiences.front();
  } else {
    boost::json::array aud;
    for (auto& a : audiences) {
      aud.emplace_back(a);
    }
    out["aud"] = std::move(aud);
  }
  out["iat"] = rec.issued_at;
  out["exp"] = rec.expires_at;
  out["jti"] = rec.jti;
  out["token_type"] = "Bearer";
  if (!rec.cnf_x5t_s256.empty()) {
    // RFC 8705 §3.2: the binding is part of the introspection answer.
    out["cnf"] = boost::json::object{{"x5t#S256", rec.cnf_x5t_s256}};
  }
  return out;
}

// The answer in the form the caller asked for. `answer` is the RFC 7662 object; RFC 7662 §2.2:
// an inactive answer is {"active":false} and nothing else, in either form.
http::Response answer(const AsContext& ctx, const store::ClientRecord& caller, bool as_jwt,
                      const boost::json::object& introspection) {
  if (!as_jwt) {
    auto r = http::Response::json(200, boost::json::serialize(introspection));
    r.headers.add("Cache-Control", "no-store");
    return r;
  }
  // RFC 9701 §5: iss, aud (the resource server receiving it), iat and token_introspection. No
  // top-level sub or exp: this is a statement about a token, never usable as one (§8.1), and
  // the typ keeps it apart from the AS's other JWTs (RFC 8725 §3.11).
  boost::json::object claims;
  claims["iss"] = ctx.settings.issuer;
  claims["aud"] = caller.client_id;
  claims["iat"] = ctx.clock->now();
  claims["token_introspection"] = introspection;
  // One view for both: the kid in the header must name the key that signs (a rotation may
  // switch keys between two separate calls).
  const auto signing = ctx.keys->view();
  auto jws = jose::sign_compact(boost::json::serialize(claims), *signing->signer, signing->kid,
                                kIntrospectionJwtTyp);
  if (!jws) {
    core::log::error("introspection_signing_failed", {{"error", jws.error().message()}});
    return to_response(oauth_error(OAuthErrc::ServerError, "introspection failed"));
  }
  auto r = http::Response::text(200, std::move(*jws));
  r.headers.set("Content-Type", std::string(kIntrospectionJwtType));
  r.headers.add("Cache-Control", "no-store");
  return r;
}

}  // namespace

http::Response introspection_endpoint(const AsContext& ctx, const http::Request& request) {
  auto form = read_form(request);
  if (!form) {
    return to_response(form.error());
  }
  // RFC 7662 §2.1: the caller must be authorized, to stop token scanning.
  auto client = authenticate_client(ctx, request, *form);
  if (!client) {
    core::log::warn("introspection_refused", {{"detail", client.error().detail}});
    return to_response(client.error());
  }
  // RFC 7662 §4, FAPI 2.0 Attacker Model (F2MS §6): introspection is for resource servers.
  // Any other client is refused before a token is looked at, unless token owners may ask
  // about their own tokens.
  if (!ctx.settings.introspection_by_token_owner &&
      !is_resource_server(ctx, client->client_id)) {
    core::log::warn("introspection_refused",
                    {{"client_id", client->client_id}, {"detail", "not a resource server"}});
    auto refused = to_response(oauth_error(OAuthErrc::UnauthorizedClient,
                                           "this client may not use the introspection endpoint"));
    refused.status = 403;
    return refused;
  }
  auto token = form->find("token");
  if (token == form->end() || token->second.empty()) {
    return to_response(oauth_error(OAuthErrc::InvalidRequest, "token is required"));
  }
  // token_type_hint (RFC 7662 §2.1) is optional and changes nothing: access and refresh tokens
  // are both found by hash whatever the hint says.
  const bool as_jwt = wants_jwt(request);
  static const boost::json::object kInactive{{"active", false}};

  auto record = find_issued_token(ctx, token->second);
  if (!record) {
    core::log::error("introspection_store_failed", {{"error", record.error().message()}});
    return to_response(oauth_error(OAuthErrc::ServerError, "introspection failed"));
  }
  const std::int64_t now = ctx.clock->now();
  // RFC 7662 §2.2: an unknown, expired or revoked token is simply inactive.
  if (!*record || (*record)->record.revoked || (*record)->record.expires_at <= now ||
      ((*record)->record.kind != "access_token" && (*record)->record.kind != "refresh_token")) {
    return answer(ctx, *client, as_jwt, kInactive);
  }
  const store::TokenRecord& rec = (*record)->record;
  const bool refresh = rec.kind == "refresh_token";
  // A refresh token is the client's own business (RFC 6749 §1.5: never sent to a resource
  // server): only the client it was issued to may introspect it, where owners may at all.
  if (refresh ? !owner_may_introspect(ctx, *client, rec) : !may_introspect(ctx, *client, rec)) {
    core::log::warn("introspection_not_permitted",
                    {{"client_id", client->client_id}, {"jti", rec.jti}});
    return answer(ctx, *client, as_jwt, kInactive);
  }
  core::log::info("token_introspected", {{"client_id", client->client_id},
                                         {"jti", rec.jti},
                                         {"format", as_jwt ? "jwt" : "json"}});
  auto described = describe(ctx, rec);
  if (refresh) {
    described.erase("token_type");  // "Bearer" describes access tokens (RFC 6749 §7.1)
  }
  return answer(ctx, *client, as_jwt, described);
}

}  // namespace fapigate::as
