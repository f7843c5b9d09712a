// RFC 7662 token introspection, for resource servers and the gateway's phantom-token path.
#include <boost/json/serialize.hpp>

#include "as/checks/client_auth.hpp"
#include "as/endpoints/endpoints.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "jose/jws.hpp"

namespace fapigate::as {
namespace {

http::Response json_no_store(std::string body) {
  auto r = http::Response::json(200, std::move(body));
  r.headers.add("Cache-Control", "no-store");
  return r;
}

// RFC 7662 §2.2: an unknown, expired, revoked or foreign token is simply inactive.
http::Response inactive() { return json_no_store(R"({"active":false})"); }

}  // namespace

http::Response introspection_endpoint(const AsContext& ctx, const http::Request& request) {
  auto form = read_form(request);
  if (!form) {
    return to_response(form.error());
  }
  // RFC 7662 §2.1: the caller must be authorized, to stop token scanning.
  auto client = authenticate_client(request, *form, *ctx.store);
  if (!client) {
    core::log::warn("introspection_refused", {{"detail", client.error().detail}});
    return to_response(client.error());
  }
  auto token = form->find("token");
  if (token == form->end() || token->second.empty()) {
    return to_response(oauth_error(OAuthErrc::InvalidRequest, "token is required"));
  }

  // Our own signature first: a forged JWT never reaches the store lookup.
  // Every allowed alg: tokens signed before a signing_alg change stay valid while their key is
  // published; the verifier set binds each kid to its key type.
  auto jws = jose::verify_compact(token->second, jose::kAllAlgs, ctx.keys->verifiers());
  if (!jws) {
    return inactive();
  }
  auto record = ctx.store->find_token(crypto::sha256_b64url(token->second));
  if (!record) {
    core::log::error("introspection_store_failed", {{"error", record.error().message()}});
    return to_response(oauth_error(OAuthErrc::ServerError, "introspection failed"));
  }
  const std::int64_t now = ctx.clock->now();
  if (!*record || (*record)->revoked || (*record)->expires_at <= now ||
      (*record)->kind != "access_token") {
    return inactive();
  }
  const store::TokenRecord& rec = **record;
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
  core::log::info("token_introspected", {{"client_id", client->client_id}, {"jti", rec.jti}});
  return json_no_store(boost::json::serialize(out));
}

}  // namespace fapigate::as
