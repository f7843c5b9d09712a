#include "as/as_service.hpp"

#include <exception>

#include "as/as_context.hpp"
#include "as/endpoints/endpoints.hpp"
#include "core/log.hpp"
#include "jose/alg.hpp"

namespace fapigate::as {
namespace {

http::Response method_not_allowed(std::string_view allow) {
  auto r = to_response(oauth_error(OAuthErrc::InvalidRequest, "method not allowed"));
  r.status = 405;
  r.headers.add("Allow", std::string(allow));
  return r;
}

class AsServiceImpl final : public AsService {
public:
  explicit AsServiceImpl(AsContext ctx) : ctx_(std::move(ctx)) {}

  void handle(http::Request request, http::Responder respond) override {
    respond(dispatch(request));
  }

private:
  http::Response dispatch(const http::Request& req) {
    const std::string& p = req.path;
    if (p == "/.well-known/openid-configuration" || p == "/.well-known/oauth-authorization-server") {
      return req.method == "GET" ? discovery_endpoint(ctx_) : method_not_allowed("GET");
    }
    if (p == "/jwks") {
      return req.method == "GET" ? jwks_endpoint(ctx_) : method_not_allowed("GET");
    }
    if (p == "/token") {
      return req.method == "POST" ? token_endpoint(ctx_, req) : method_not_allowed("POST");
    }
    if (p == "/introspect") {
      return req.method == "POST" ? introspection_endpoint(ctx_, req) : method_not_allowed("POST");
    }
    return http::Response::json(404, R"({"error":"not_found"})");
  }

  AsContext ctx_;
};

}  // namespace

Result<std::shared_ptr<AsService>> AsService::create(const config::AuthorizationServer& settings,
                                                     store::Store& store,
                                                     const core::Clock& clock) {
  auto alg = jose::parse_alg(settings.signing_alg);
  if (!alg) {
    return make_error_code(boost::system::errc::invalid_argument);
  }
  auto keys = SigningKeys::load_or_create(store, *alg, clock);
  if (!keys) {
    return keys.error();
  }
  for (const auto& c : settings.clients) {
    store::ClientRecord rec;
    rec.client_id = c.client_id;
    rec.token_endpoint_auth_method = c.token_endpoint_auth_method;
    rec.tls_client_auth_subject_dn = c.tls_client_auth_subject_dn;
    rec.tls_client_auth_san_dns = c.tls_client_auth_san_dns;
    rec.tls_client_auth_san_uri = c.tls_client_auth_san_uri;
    rec.tls_client_auth_san_ip = c.tls_client_auth_san_ip;
    rec.tls_client_auth_san_email = c.tls_client_auth_san_email;
    rec.grant_types = c.grant_types;
    rec.scopes = c.scopes;
    rec.redirect_uris = c.redirect_uris;
    rec.created_at = clock.now();
    if (auto put = store.put_client(rec); !put) {
      return put.error();
    }
  }
  AsContext ctx;
  ctx.settings = settings;
  ctx.store = &store;
  ctx.keys = *keys;
  ctx.clock = &clock;
  core::log::info("authorization_server_ready",
                  {{"issuer", settings.issuer}, {"kid", ctx.keys->current_kid()}});
  return std::shared_ptr<AsService>(std::make_shared<AsServiceImpl>(std::move(ctx)));
}

}  // namespace fapigate::as
