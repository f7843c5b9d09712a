#include "gateway/gateway_service.hpp"

#include <array>
#include <chrono>
#include <fstream>
#include <sstream>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/route_policy.hpp"
#include "gateway/sender_constraint.hpp"
#include "gateway/token_verifier.hpp"
#include "gateway/upstream_proxy.hpp"
#include "jose/jwk.hpp"

namespace fapigate::gw {
namespace {

constexpr std::size_t kMaxInteractionIdLength = 128;

// RFC 6750 §2.1 b64token characters before the '=' padding, as a table (every request's token
// is scanned).
constexpr std::array<bool, 256> kB64TokenChar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) {
    t[c] = true;
  }
  for (int c = 'a'; c <= 'z'; ++c) {
    t[c] = true;
  }
  for (int c = 'A'; c <= 'Z'; ++c) {
    t[c] = true;
  }
  for (const char c : std::string_view("-._~+/")) {
    t[static_cast<unsigned char>(c)] = true;
  }
  return t;
}();

bool is_b64token(std::string_view t) {
  // RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  if (t.empty()) {
    return false;
  }
  std::size_t i = 0;
  while (i < t.size() && kB64TokenChar[static_cast<unsigned char>(t[i])]) {
    ++i;
  }
  if (i == 0) {
    return false;
  }
  for (; i < t.size(); ++i) {
    if (t[i] != '=') {
      return false;
    }
  }
  return true;
}

bool query_has_access_token(std::string_view query) {
  for (auto part : core::split(query, '&')) {
    if (part.substr(0, part.find('=')) == "access_token") {
      return true;
    }
  }
  return false;
}

struct Extracted {
  std::string token;
  std::optional<GwErrc> error;
};

Extracted extract_bearer(const http::Request& req) {
  if (query_has_access_token(req.query)) {
    // FAPI 1.0 Part 1 §6.2.1-3 / FAPI 2.0 SP §5.3.4-2: only the Authorization header.
    return {{}, GwErrc::TokenInQuery};
  }
  const std::size_t n = req.headers.count("Authorization");
  if (n == 0) {
    return {{}, GwErrc::TokenMissing};
  }
  if (n > 1) {
    return {{}, GwErrc::AuthorizationInvalid};
  }
  std::string_view v = core::trim(*req.headers.get("Authorization"));
  auto sp = v.find(' ');
  std::string_view scheme = v.substr(0, sp);
  if (!core::iequals(scheme, "Bearer")) {
    // RFC 9110 §11.1: scheme names are case-insensitive. Another scheme is no credential
    // this gateway understands, which RFC 6750 §3 answers with a bare challenge.
    return {{}, GwErrc::TokenMissing};
  }
  if (sp == std::string_view::npos) {
    return {{}, GwErrc::AuthorizationInvalid};
  }
  std::string_view token = core::trim(v.substr(sp + 1));
  if (!is_b64token(token)) {
    return {{}, GwErrc::AuthorizationInvalid};
  }
  return {std::string(token), std::nullopt};
}

std::string quoted(std::string_view s) {
  // auth-param values are quoted-strings; descriptions are our static text without quotes.
  std::string out;  // appends, not operator+ (GCC 12 -O3 -Wrestrict false positive)
  out.reserve(s.size() + 2);
  out.append(1, '"').append(s).append(1, '"');
  return out;
}

class GatewayServiceImpl final : public GatewayService {
public:
  GatewayServiceImpl(config::Gateway settings, std::unique_ptr<TokenVerifier> verifier,
                     std::shared_ptr<http::Client> upstream, const core::Clock& clock,
                     core::metrics::Registry* registry)
      : settings_(std::move(settings)),
        verifier_(std::move(verifier)),
        upstream_(std::move(upstream)),
        clock_(clock),
        own_registry_(registry ? nullptr : std::make_unique<core::metrics::Registry>()),
        registry_(registry ? *registry : *own_registry_),
        metrics_(registry_, settings_.routes) {}

  void warm_up() override { verifier_->prefetch_all(); }

  std::vector<IssuerStatus> issuer_status() const override {
    std::vector<IssuerStatus> out;
    for (const auto& iss : settings_.issuers) {
      auto it = verifier_->issuers().find(iss.issuer);
      out.push_back({iss.issuer, it != verifier_->issuers().end() && it->second->keys_loaded()});
    }
    return out;
  }

  // Scrape-time series; called once the shared_ptr exists, so they can hold weak references
  // (the aliasing pointer keeps the whole service alive while a scrape reads the cache).
  static void register_scrape_metrics(const std::shared_ptr<GatewayServiceImpl>& self) {
    register_cache_metrics(self->registry_,
                           std::shared_ptr<const TokenCache>(self, &self->verifier_->cache()));
    for (const auto& [name, keys] : self->verifier_->issuers()) {
      register_issuer_metrics(self->registry_, keys);
    }
  }

  void handle(http::Request request, http::Responder respond) override {
    auto ctx = std::make_shared<Exchange>();
    ctx->started = std::chrono::steady_clock::now();
    ctx->interaction_id = interaction_id_for(request);
    ctx->request = std::move(request);
    ctx->respond = std::move(respond);

    auto match = match_route(settings_.routes, ctx->request.method, ctx->request.path);
    if (match.error) {
      ctx->allow = std::move(match.allow);
      return refuse(*ctx, *match.error, nullptr);
    }
    ctx->route = match.route;
    auto bearer = extract_bearer(ctx->request);
    if (bearer.error) {
      return refuse(*ctx, *bearer.error, ctx->route);
    }
    verifier_->verify(std::move(bearer.token), [this, ctx](VerifyResult result) {
      on_verified(ctx, std::move(result));
    });
  }

private:
  struct Exchange {
    http::Request request;
    http::Responder respond;
    std::string interaction_id;
    const config::Route* route = nullptr;
    std::shared_ptr<const VerifiedToken> token;
    std::string allow;
    std::chrono::steady_clock::time_point started;
  };

  void on_verified(const std::shared_ptr<Exchange>& ctx, VerifyResult result) {
    if (!result) {
      auto code = static_cast<GwErrc>(result.error().value());
      return refuse(*ctx, code, ctx->route);
    }
    ctx->token = *result;
    if (auto err = check_sender_constraint(*ctx->token, ctx->request.peer_certificate.get(),
                                           ctx->route->sender_constraint)) {
      return refuse(*ctx, *err, ctx->route);
    }
    if (auto err = check_route_policy(*ctx->route, *ctx->token)) {
      return refuse(*ctx, *err, ctx->route);
    }
    forward(ctx);
  }

  void forward(const std::shared_ptr<Exchange>& ctx) {
    auto upstream_req =
        make_upstream_request(ctx->request, ctx->route->upstream, ctx->interaction_id);
    upstream_req.timeout = std::chrono::milliseconds(settings_.upstream_timeout_ms);
    upstream_->send(std::move(upstream_req), [this, ctx](Result<http::Response> r) {
      if (!r) {
        const bool timeout = r.error() == boost::system::errc::timed_out ||
                             r.error().message().find("timeout") != std::string::npos ||
                             r.error().message().find("timed out") != std::string::npos;
        core::log::error("upstream_failed", {{"route", ctx->route->name},
                                             {"error", r.error().message()},
                                             {"interaction_id", ctx->interaction_id}});
        metrics_.upstream_error(route_index(ctx->route), timeout);
        return refuse(*ctx, timeout ? GwErrc::UpstreamTimeout : GwErrc::UpstreamUnavailable,
                      ctx->route);
      }
      auto response = make_client_response(std::move(*r), ctx->interaction_id);
      access_log(*ctx, response.status, "allowed");
      metrics_.record(route_index(ctx->route), std::nullopt, ctx->started);
      ctx->respond(std::move(response));
    });
  }

  void refuse(Exchange& ctx, GwErrc code, const config::Route* route) {
    const Refusal& r = refusal_for(code);
    http::Response resp;
    resp.status = r.status;
    if (r.status == 401 || r.status == 403 || code == GwErrc::TokenInQuery ||
        code == GwErrc::AuthorizationInvalid) {
      // RFC 6750 §3: a request without credentials gets a bare challenge; otherwise the error.
      std::string challenge = "Bearer realm=" + quoted(settings_.realm);
      if (!r.oauth_error.empty()) {
        challenge += ", error=" + quoted(r.oauth_error);
        challenge += ", error_description=" + quoted(r.description);
      }
      if (code == GwErrc::InsufficientScope && route) {
        challenge += ", scope=" + quoted(required_scope_string(*route));
      }
      resp.headers.add("WWW-Authenticate", challenge);
    }
    std::string body = "{\"error\":";
    body += core::json_quote(r.oauth_error.empty() ? r.label : r.oauth_error);
    body += ",\"error_description\":";
    body += core::json_quote(r.description.empty() ? "authentication required" : r.description);
    body += '}';
    if (code == GwErrc::MethodNotAllowed && !ctx.allow.empty()) {
      resp.headers.add("Allow", ctx.allow);
    }
    resp.headers.add("Content-Type", "application/json");
    resp.headers.add("Cache-Control", "no-store");
    resp.headers.add("x-fapi-interaction-id", ctx.interaction_id);
    resp.body = std::move(body);
    access_log(ctx, resp.status, r.label);
    metrics_.record(route_index(ctx.route), code, ctx.started);
    ctx.respond(std::move(resp));
  }

  void access_log(const Exchange& ctx, int status, std::string_view outcome) {
    const auto level = status >= 500   ? core::log::Level::Error
                       : status >= 400 ? core::log::Level::Warn
                                       : core::log::Level::Info;
    if (!core::log::enabled(level)) {
      return;  // the fields below are a dozen string copies per request
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - ctx.started)
                  .count();
    const auto& cert = ctx.request.peer_certificate;
    core::log::write(level, "gateway_access",
                     {{"method", ctx.request.method},
                      {"path", ctx.request.path},
                      {"route", ctx.route ? ctx.route->name : std::string()},
                      {"status", status},
                      {"outcome", std::string(outcome)},
                      {"client_id", ctx.token ? ctx.token->client_id : std::string()},
                      {"jti", ctx.token ? ctx.token->jti : std::string()},
                      {"cert", cert ? cert->x5t_s256.substr(0, 12) : std::string()},
                      {"interaction_id", ctx.interaction_id},
                      {"remote", ctx.request.remote_address},
                      {"duration_us", static_cast<long long>(us)}});
  }

  std::ptrdiff_t route_index(const config::Route* route) const {
    // match_route returns a pointer into settings_.routes.
    return route ? route - settings_.routes.data() : GatewayMetrics::kNoRoute;
  }

  config::Gateway settings_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::shared_ptr<http::Client> upstream_;
  const core::Clock& clock_;
  std::unique_ptr<core::metrics::Registry> own_registry_;
  core::metrics::Registry& registry_;
  GatewayMetrics metrics_;
};

Result<std::shared_ptr<const jose::VerifierSet>> load_extra_keys(const config::Issuer& issuer) {
  if (issuer.extra_keys_file.empty()) {
    return std::shared_ptr<const jose::VerifierSet>();
  }
  std::ifstream in(issuer.extra_keys_file, std::ios::binary);
  if (!in) {
    return make_error_code(boost::system::errc::no_such_file_or_directory);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  // A file may hold one JWK or a JWKS; private members are ignored, only public halves verify.
  auto jwks = jose::parse_jwks(text);
  if (!jwks) {
    auto one = jose::parse_jwk(text);
    if (!one) {
      return one.error();
    }
    jose::Jwks set;
    one->key = one->key.public_only();
    set.keys.push_back(std::move(*one));
    jwks = std::move(set);
  }
  core::log::warn("gateway_extra_keys_trusted",
                  {{"issuer", issuer.issuer},
                   {"keys", static_cast<unsigned long>(jwks->keys.size())},
                   {"note", "keys outside the issuer's JWKS are trusted (demo/test only)"}});
  return std::make_shared<const jose::VerifierSet>(*jwks);
}

}  // namespace

std::string interaction_id_for(const http::Request& request) {
  if (auto id = request.headers.get("x-fapi-interaction-id")) {
    // Echo only what cannot inject into headers or logs: a bounded token of safe characters.
    bool ok = !id->empty() && id->size() <= kMaxInteractionIdLength;
    for (char c : *id) {
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
    }
    if (ok) {
      return std::string(*id);
    }
  }
  return crypto::uuid_v4();
}

Result<std::shared_ptr<GatewayService>> GatewayService::create(const config::Gateway& settings,
                                                               GatewayDeps deps) {
  std::vector<std::shared_ptr<IssuerKeys>> issuers;
  for (const auto& iss : settings.issuers) {
    auto extra = load_extra_keys(iss);
    if (!extra) {
      core::log::error("gateway_extra_keys_invalid",
                       {{"issuer", iss.issuer}, {"file", iss.extra_keys_file}});
      return extra.error();
    }
    auto client = deps.issuer_client(iss);
    if (!client) {
      return client.error();
    }
    issuers.push_back(std::make_shared<IssuerKeys>(iss, *client, *deps.clock, *extra));
  }
  auto verifier = std::make_unique<TokenVerifier>(std::move(issuers),
                                                  settings.verified_token_cache_entries,
                                                  *deps.clock);
  auto service = std::make_shared<GatewayServiceImpl>(
      settings, std::move(verifier), std::move(deps.upstream_client), *deps.clock, deps.metrics);
  GatewayServiceImpl::register_scrape_metrics(service);
  return std::shared_ptr<GatewayService>(std::move(service));
}

}  // namespace fapigate::gw
