#include "as/as_service.hpp"

#include <exception>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "as/as_context.hpp"
#include "as/as_metrics.hpp"
#include "as/checks/client_assertion.hpp"
#include "as/client_policy.hpp"
#include "as/endpoints/endpoints.hpp"
#include "as/endpoints/front_channel.hpp"
#include "as/password.hpp"
#include "as/endpoints/registration.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "jose/alg.hpp"
#include "jose/jwe.hpp"
#include "jose/jwk.hpp"

namespace fapigate::as {
namespace {

http::Response method_not_allowed(std::string_view allow) {
  auto r = to_response(oauth_error(OAuthErrc::InvalidRequest, "method not allowed"));
  r.status = 405;
  r.headers.add("Allow", std::string(allow));
  return r;
}

// A client's registered public keys (config jwks_file), read bounded and checked now so that a
// bad file stops the start instead of failing every later authentication. Errors name the key.
Result<std::string> load_client_jwks(const config::ClientRegistration& c, std::size_t index) {
  constexpr std::size_t kMaxBytes = 64 * 1024;
  const std::string key = "authorization_server.clients[" + std::to_string(index) + "].jwks_file";
  auto bad = [&](std::string_view why) {
    core::log::error("client_jwks_invalid", {{"key", key},
                                             {"file", c.jwks_file},
                                             {"client_id", c.client_id},
                                             {"reason", std::string(why)}});
    return make_error_code(boost::system::errc::invalid_argument);
  };
  auto read = core::read_file_bounded(c.jwks_file, kMaxBytes);
  if (!read) {
    return bad(read.error() == boost::system::errc::file_too_large ? "larger than 64 KiB"
                                                                    : "cannot open the file");
  }
  const std::string& text = *read;
  auto jwks = parse_client_jwks(text);
  if (!jwks) {
    // A private member is refused too: the client must not hand over its private key.
    return bad("not a public JWKS (" + jwks.error().message() + ")");
  }
  const bool encrypts = !c.id_token_encrypted_response_alg.empty();
  if (jwks->keys.empty() && !encrypts) {
    return bad("no usable key (RSA >= 2048, EC P-256 or Ed25519)");
  }
  // Only the public keys this server uses are kept: the signing keys, and the client's RSA
  // encryption key for its id_token_encrypted_response_alg (OIDC Registration §2).
  boost::json::array keys;
  for (const auto& k : jwks->keys) {
    keys.emplace_back(jose::to_json(k, false));
  }
  if (encrypts) {
    // The alg name itself is checked by config validation; here only its key.
    auto alg = jose::parse_key_management_alg(c.id_token_encrypted_response_alg);
    auto enc = jose::find_encryption_key(text, alg.value_or(jose::KeyManagementAlg::RsaOaep256));
    if (!alg || !enc) {
      return bad("no RSA key to encrypt ID tokens to with " + c.id_token_encrypted_response_alg +
                 " (\"use\": \"enc\" or none, \"alg\" none or " +
                 c.id_token_encrypted_response_alg + ")");
    }
    auto jwk = jose::to_json(jose::make_jwk(enc->key, enc->kid, std::nullopt), false);
    jwk["use"] = "enc";
    jwk["alg"] = c.id_token_encrypted_response_alg;
    keys.emplace_back(std::move(jwk));
  }
  return boost::json::serialize(boost::json::object{{"keys", std::move(keys)}});
}

class AsServiceImpl final : public AsService,
                            public std::enable_shared_from_this<AsServiceImpl> {
public:
  AsServiceImpl(AsContext ctx, core::metrics::Registry* registry)
      : ctx_(std::move(ctx)),
        own_registry_(registry ? nullptr : std::make_unique<core::metrics::Registry>()),
        metrics_(registry ? *registry : *own_registry_) {}

  void handle(http::Request request, http::Responder respond) override {
    if (request.path == "/token" && request.method == "POST") {
      // Answered from the store's completion once the token is durable (group commit); this
      // thread goes on serving other connections meanwhile. The completion keeps the service
      // alive: the store may run it after the server has stopped.
      auto req = std::make_shared<http::Request>(std::move(request));
      token_endpoint_async(ctx_, *req,
                           [self = shared_from_this(), req,
                            respond = std::move(respond)](http::Response response) mutable {
                             self->metrics_.observe(*req, response);
                             respond(std::move(response));
                           });
      return;
    }
    auto response = dispatch(request);
    metrics_.observe(request, response);
    respond(std::move(response));
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
    if (p == "/revoke") {
      return req.method == "POST" ? revocation_endpoint(ctx_, req) : method_not_allowed("POST");
    }
    if (p == "/par") {
      // RFC 9126 §2.3: POST only (N-30).
      return req.method == "POST" ? par_endpoint(ctx_, req) : method_not_allowed("POST");
    }
    if (is_front_channel_path(p)) {
      return front_channel_endpoint(ctx_, req);
    }
    if (p == "/register" || p.starts_with("/register/")) {
      return registration_endpoint(ctx_, req);  // 404 there unless registration is enabled
    }
    return http::Response::json(404, R"({"error":"not_found"})");
  }

  AsContext ctx_;
  std::unique_ptr<core::metrics::Registry> own_registry_;
  AsMetrics metrics_;
};

}  // namespace

Result<std::shared_ptr<AsService>> AsService::create(const config::AuthorizationServer& settings,
                                                     store::Store& store,
                                                     const core::Clock& clock,
                                                     core::metrics::Registry* metrics,
                                                     const std::optional<std::string>& kek_env) {
  auto alg = jose::parse_alg(settings.signing_alg);
  if (!alg) {
    return make_error_code(boost::system::errc::invalid_argument);
  }
  auto kek = load_key_encryption_key(settings.key_encryption_key_file, kek_env);
  if (!kek) {
    return kek.error();  // logged with the file or variable it came from
  }
  SigningKeys::Options key_options;
  key_options.alg = *alg;
  // ID tokens are signed with each client's id_token_signed_response_alg (PS256 by default,
  // ES256 or EdDSA per client), so a key for every allowed alg is kept and published.
  key_options.extra_algs = jose::kAllAlgs;
  key_options.kek = std::move(*kek);
  key_options.refresh_interval = settings.key_refresh_interval;
  auto keys = SigningKeys::load_or_create(store, std::move(key_options), clock);
  if (!keys) {
    return keys.error();
  }
  for (std::size_t i = 0; i < settings.clients.size(); ++i) {
    const auto& c = settings.clients[i];
    store::ClientRecord rec;
    if (!c.jwks_file.empty()) {
      auto jwks = load_client_jwks(c, i);
      if (!jwks) {
        return jwks.error();
      }
      rec.jwks_json = std::move(*jwks);
    } else if (c.token_endpoint_auth_method != "tls_client_auth") {
      // Config validation demands the file; a client built in code without it cannot log in.
      core::log::warn("client_without_keys", {{"client_id", c.client_id},
                                              {"method", c.token_endpoint_auth_method}});
    }
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
    rec.metadata_json = client_metadata_json(c);
    rec.created_at = clock.now();
    if (auto put = store.put_client(rec); !put) {
      return put.error();
    }
  }
  for (std::size_t i = 0; i < settings.users.size(); ++i) {
    const auto& u = settings.users[i];
    if (!password_hash_well_formed(u.password_hash)) {
      core::log::error("user_invalid",
                       {{"key", "authorization_server.users[" + std::to_string(i) + "].password_hash"},
                        {"username", u.username},
                        {"reason", "not an encoded scrypt hash within bounds (log2 N 10..20, "
                                   "r 1..32, p 1..16)"}});
      return make_error_code(boost::system::errc::invalid_argument);
    }
    store::UserRecord rec;
    rec.username = u.username;
    rec.password_hash = u.password_hash;
    rec.created_at = clock.now();
    if (auto put = store.put_user(rec); !put) {
      return put.error();
    }
  }
  AsContext ctx;
  ctx.settings = settings;
  ctx.store = &store;
  ctx.keys = *keys;
  ctx.clock = &clock;
  ctx.clients = std::make_shared<ClientCache>(store, clock);
  if (settings.registration.enabled) {
    auto registration = Registration::create(settings.registration);
    if (!registration) {
      return registration.error();  // logged with the key that is wrong
    }
    ctx.registration = std::move(*registration);
  }
  core::log::info("authorization_server_ready",
                  {{"issuer", settings.issuer}, {"kid", ctx.keys->current_kid()}});
  return std::shared_ptr<AsService>(std::make_shared<AsServiceImpl>(std::move(ctx), metrics));
}

}  // namespace fapigate::as
