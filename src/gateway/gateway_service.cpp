#include "gateway/gateway_service.hpp"

#include <array>
#include <atomic>
#include <chrono>

#include <boost/json/serialize.hpp>

#include "core/cidr.hpp"
#include "core/files.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "gateway/client_cert_header.hpp"
#include "gateway/gateway_metrics.hpp"
#include "gateway/route_policy.hpp"
#include "gateway/sender_constraint.hpp"
#include "gateway/token_verifier.hpp"
#include "gateway/upstream_proxy.hpp"
#include "gateway/upstream_token.hpp"
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
  return !core::for_each_part(query, '&', [](std::string_view part) {
    return part.substr(0, part.find('=')) != "access_token";
  });
}

}  // namespace

ExtractedBearer extract_bearer(const http::Request& req) {
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
  return {token, std::nullopt};
}

namespace {

std::string quoted(std::string_view s) {
  // auth-param values are quoted-strings; descriptions are our static text without quotes.
  std::string out;  // appends, not operator+ (GCC 12 -O3 -Wrestrict false positive)
  out.reserve(s.size() + 2);
  out.append(1, '"').append(s).append(1, '"');
  return out;
}

// RFC 9110 §9.2.2: only these may be sent again after a failure.
bool is_idempotent(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "PUT" || m == "DELETE" || m == "OPTIONS";
}

bool is_timeout(const ErrorCode& ec) {
  return ec == boost::system::errc::timed_out || ec == http::ClientErrc::ConnectTimeout ||
         ec.message().find("timeout") != std::string::npos ||
         ec.message().find("timed out") != std::string::npos;
}

// No connection was made, so no byte of the request left: safe to send elsewhere whatever the
// method (as nginx's proxy_next_upstream does for connect errors). The client never retries a
// non-idempotent request itself, so for POST these come from a fresh connect attempt.
bool never_sent(const ErrorCode& ec) {
  using boost::system::errc::errc_t;
  return ec == http::ClientErrc::ConnectTimeout || ec == errc_t::connection_refused ||
         ec == errc_t::host_unreachable || ec == errc_t::network_unreachable;
}

// The request cannot have reached the upstream application: it could not connect, or the
// connection went away before any response byte (RFC 9110 §9.2.2: retried for idempotent
// methods only, since the bytes may have arrived). Anything else (a timeout while waiting for
// the answer, an oversized answer) may follow a side effect and is never retried.
bool is_retryable(const ErrorCode& ec) {
  using boost::system::errc::errc_t;
  if (never_sent(ec)) {
    return true;
  }
  for (errc_t e : {errc_t::connection_reset, errc_t::connection_aborted, errc_t::not_connected,
                   errc_t::broken_pipe}) {
    if (ec == e) {
      return true;
    }
  }
  // asio's eof / Beast's end_of_stream: closed before a response (no Asio include here).
  const std::string_view cat = ec.category().name();
  return (cat == "asio.misc" && ec.value() == 2) || (cat == "beast.http" && ec.value() == 1);
}

// A claim as a header value: strings as they are, numbers and booleans as JSON, arrays of
// strings space-separated; objects and absent claims give nothing.
std::optional<std::string> claim_value(const boost::json::object& claims, std::string_view name) {
  auto it = claims.find(name);
  if (it == claims.end()) {
    return std::nullopt;
  }
  const auto& v = it->value();
  if (const auto* s = v.if_string()) {
    return std::string(*s);
  }
  if (v.is_int64() || v.is_uint64() || v.is_bool() || v.is_double()) {
    return boost::json::serialize(v);
  }
  if (const auto* a = v.if_array()) {
    std::string out;
    for (const auto& e : *a) {
      if (const auto* s = e.if_string()) {
        out += out.empty() ? std::string(*s) : " " + std::string(*s);
      }
    }
    return out;
  }
  return std::nullopt;
}

// A route's upstream pool, resolved once.
struct RouteRuntime {
  std::vector<std::string> targets;
  std::shared_ptr<http::Client> client;
  std::shared_ptr<std::atomic<std::uint32_t>> next =
      std::make_shared<std::atomic<std::uint32_t>>(0);
  std::vector<std::string> strip;  // claim headers and the scope header
};

constexpr std::size_t kMaxScopeHeader = 1024;

// Logs identify a token by a hash prefix only, never the token (STYLE.md §6).
std::string token_hash_prefix(const http::Request& req) {
  auto auth = req.headers.get("Authorization");
  if (!auth) {
    return {};
  }
  auto sp = auth->find(' ');
  if (sp == std::string_view::npos) {
    return {};
  }
  return core::hex(crypto::sha256(core::trim(auth->substr(sp + 1)))).substr(0, 12);
}

class GatewayServiceImpl final : public GatewayService {
public:
  GatewayServiceImpl(config::Gateway settings, std::unique_ptr<TokenVerifier> verifier,
                     std::shared_ptr<http::Client> upstream, const core::Clock& clock,
                     core::metrics::Registry* registry, std::vector<RouteRuntime> runtime)
      : settings_(std::move(settings)),
        verifier_(std::move(verifier)),
        upstream_(std::move(upstream)),
        clock_(clock),
        own_registry_(registry ? nullptr : std::make_unique<core::metrics::Registry>()),
        registry_(registry ? *registry : *own_registry_),
        metrics_(registry_, settings_.routes),
        runtime_(std::move(runtime)) {
    std::vector<core::Cidr> ranges;
    for (const auto& t : settings_.trusted_proxies) {
      if (auto c = core::parse_cidr(t)) {
        ranges.push_back(*c);
      }
    }
    trusted_ = core::CidrSet(std::move(ranges));
  }

  void warm_up() override {
    verifier_->prefetch_all();
    verifier_->start_background_refresh(key_refresh_tick_);
  }

  std::chrono::milliseconds key_refresh_tick_{0};  // GatewayDeps::key_refresh_tick
  std::shared_ptr<UpstreamTokenSigner> upstream_signer_;  // gateway.upstream_token_signing

  std::string upstream_jwks() const override {
    return upstream_signer_ ? upstream_signer_->jwks() : std::string();
  }

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
    // FAPI 1.0 Part 1 §6.2.1-10 (F1-28): the HTTP server adds Date to every response that
    // has none (http/session_impl.hpp); an upstream's own Date is forwarded as it is.
    ctx->respond = std::move(respond);

    ctx->trusted_peer = !trusted_.empty() && trusted_.contains(ctx->request.remote_address);
    std::string host;
    if (auto h = ctx->request.headers.get("Host")) {
      host = host_of(*h).value_or("");
    }
    auto match = match_route(settings_.routes, ctx->request.method, ctx->request.path, host);
    if (match.error) {
      ctx->allow = std::move(match.allow);
      return refuse(*ctx, *match.error, nullptr);
    }
    ctx->route = match.route;
    ctx->path = std::move(match.path);
    // RFC 9110 §7.4 / §15.5.20: a connection whose TLS server name is another host than the
    // request names is misdirected (the certificate vouched for the SNI, not for Host); 421
    // tells a client that reused a connection to retry on a fresh one. Every route, not only
    // host-matched ones: SNI and Host must agree (a client without SNI is not checked).
    if (ctx->request.tls && !ctx->request.sni.empty() && !host.empty() &&
        !core::iequals(ctx->request.sni, host)) {
      return refuse(*ctx, GwErrc::MisdirectedRequest, ctx->route);
    }
    ctx->certificate = ctx->request.peer_certificate;
    if (ctx->trusted_peer) {
      // RFC 9440 §2.4/§3: a trusted TLS-terminating proxy passes the client's certificate; from
      // anyone else the header is ignored and stripped (upstream_proxy.cpp).
      const std::size_t n = ctx->request.headers.count("Client-Cert");
      if (n > 1) {
        return refuse(*ctx, GwErrc::ClientCertInvalid, ctx->route);
      }
      if (n == 1) {
        auto cert = parse_client_cert_header(*ctx->request.headers.get("Client-Cert"));
        if (!cert) {
          return refuse(*ctx, GwErrc::ClientCertInvalid, ctx->route);
        }
        ctx->certificate = std::move(*cert);
      }
      if (!ctx->route->scope_header.empty()) {
        if (auto sh = ctx->request.headers.get(ctx->route->scope_header)) {
          if (sh->size() > kMaxScopeHeader ||
              ctx->request.headers.count(ctx->route->scope_header) > 1) {
            return refuse(*ctx, GwErrc::AuthorizationInvalid, ctx->route);
          }
          ctx->extra_scopes = core::split_scopes(*sh);
        }
      }
    }
    auto bearer = extract_bearer(ctx->request);
    if (bearer.error) {
      return refuse(*ctx, *bearer.error, ctx->route);
    }
    verifier_->verify(bearer.token, [this, ctx](VerifyResult result) {
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
    bool trusted_peer = false;
    std::string path;  // normalised
    std::shared_ptr<const http::PeerCertificate> certificate;  // connection's or trusted header's
    std::vector<std::string> extra_scopes;  // from a trusted scope_header
    std::vector<http::Headers::Field> claim_headers;
    std::size_t attempts = 0;
  };

  void on_verified(const std::shared_ptr<Exchange>& ctx, VerifyResult result) {
    if (!result) {
      auto code = static_cast<GwErrc>(result.error().value());
      return refuse(*ctx, code, ctx->route);
    }
    ctx->token = *result;
    if (auto err = check_sender_constraint(*ctx->token, ctx->certificate.get(),
                                           ctx->route->sender_constraint)) {
      return refuse(*ctx, *err, ctx->route);
    }
    if (auto err = check_route_policy(*ctx->route, *ctx->token, ctx->request.method,
                                      ctx->extra_scopes)) {
      return refuse(*ctx, *err, ctx->route);
    }
    for (const auto& ch : ctx->route->claim_headers) {
      auto v = claim_value(ctx->token->claims, ch.claim);
      if (!v) {
        continue;
      }
      if (!safe_field_value(*v) || v->size() > 4096) {
        // A claim that would split or bloat the upstream request is refused, not truncated.
        return refuse(*ctx, GwErrc::ClaimInvalid, ctx->route);
      }
      ctx->claim_headers.push_back({ch.header, std::move(*v)});
    }
    forward(ctx);
  }

  void forward(const std::shared_ptr<Exchange>& ctx) {
    const RouteRuntime& rt = runtime_[route_index(ctx->route)];
    ForwardOptions opts;
    opts.target = ctx->path;
    if (!ctx->request.query.empty()) {
      opts.target += '?';
      opts.target += ctx->request.query;
    }
    opts.certificate = ctx->certificate.get();
    opts.trusted_proxy = ctx->trusted_peer;
    if (ctx->route->upstream_token == config::UpstreamToken::Gateway && upstream_signer_) {
      // Signed once per token and audience (upstream_token.hpp); the incoming token, opaque or
      // JWT, never goes upstream.
      const std::string& audience =
          ctx->route->upstream_audience.empty() ? ctx->route->name : ctx->route->upstream_audience;
      auto jwt = upstream_signer_->token_for(*ctx->token, audience);
      if (!jwt) {
        return refuse(*ctx, GwErrc::UpstreamUnavailable, ctx->route);
      }
      opts.authorization = "Bearer " + *jwt;
    } else if (!ctx->token->upstream_jwt.empty()) {
      opts.authorization = "Bearer " + ctx->token->upstream_jwt;
    }
    opts.strip = &rt.strip;
    opts.add = &ctx->claim_headers;
    // Round robin; a retry moves on to the next target.
    const std::uint32_t slot = rt.next->fetch_add(1, std::memory_order_relaxed);
    const std::string& target = rt.targets[slot % rt.targets.size()];
    auto built = make_upstream_request(ctx->request, target, ctx->interaction_id, opts);
    if (!built) {
      return refuse(*ctx, GwErrc::AuthorizationInvalid, ctx->route);
    }
    auto upstream_req = std::move(*built);
    upstream_req.timeout = std::chrono::milliseconds(settings_.upstream_timeout_ms);
    upstream_req.connect_timeout = std::chrono::milliseconds(settings_.upstream_connect_timeout_ms);
    ++ctx->attempts;
    rt.client->send(std::move(upstream_req), [this, ctx](Result<http::Response> r) {
      if (!r) {
        const bool timeout = is_timeout(r.error());
        const bool may_resend = never_sent(r.error()) ||
                                (!timeout && is_idempotent(ctx->request.method) &&
                                 is_retryable(r.error()));
        if (may_resend && ctx->attempts <= settings_.upstream_retries) {
          core::log::warn("upstream_retry", {{"route", ctx->route->name},
                                             {"error", r.error().message()},
                                             {"interaction_id", ctx->interaction_id}});
          metrics_.upstream_error(route_index(ctx->route), false);
          return forward(ctx);
        }
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
        challenge += ", scope=" +
                     quoted(required_scope_string(*route, ctx.request.method, ctx.extra_scopes));
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
                      {"cert", ctx.certificate    ? ctx.certificate->x5t_s256.substr(0, 12)
                               : cert             ? cert->x5t_s256.substr(0, 12)
                                                  : std::string()},
                      {"token", token_hash_prefix(ctx.request)},
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
  std::vector<RouteRuntime> runtime_;  // by route index
  core::CidrSet trusted_;
};

// A key file named by the configuration: a JWKS is at most 256 KiB (jose::JwksLimits).
constexpr std::size_t kMaxKeyFileBytes = 256 * 1024;

Result<std::shared_ptr<const jose::VerifierSet>> load_extra_keys(const config::Issuer& issuer) {
  if (issuer.extra_keys_file.empty()) {
    return std::shared_ptr<const jose::VerifierSet>();
  }
  auto read = core::read_file_bounded(issuer.extra_keys_file, kMaxKeyFileBytes);
  if (!read) {
    return read.error();
  }
  const std::string& text = *read;
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
  std::vector<RouteRuntime> runtime;
  for (const auto& r : settings.routes) {
    RouteRuntime rt;
    if (!r.upstream.empty()) {
      rt.targets.push_back(r.upstream);
    }
    rt.targets.insert(rt.targets.end(), r.upstreams.begin(), r.upstreams.end());
    if (rt.targets.empty()) {
      return make_error_code(boost::system::errc::invalid_argument);
    }
    rt.client = deps.upstream_client;
    if (r.upstream_tls) {
      if (!deps.upstream_tls_client) {
        return make_error_code(boost::system::errc::not_supported);
      }
      auto c = deps.upstream_tls_client(*r.upstream_tls);
      if (!c) {
        core::log::error("gateway_upstream_tls_failed", {{"route", r.name}});
        return c.error();
      }
      rt.client = *c;
    }
    for (const auto& ch : r.claim_headers) {
      rt.strip.push_back(ch.header);
    }
    if (!r.scope_header.empty()) {
      rt.strip.push_back(r.scope_header);
    }
    runtime.push_back(std::move(rt));
  }
  auto service = std::make_shared<GatewayServiceImpl>(settings, std::move(verifier),
                                                      std::move(deps.upstream_client),
                                                      *deps.clock, deps.metrics,
                                                      std::move(runtime));
  service->key_refresh_tick_ = deps.key_refresh_tick;
  if (settings.upstream_token_signing) {
    auto signer = UpstreamTokenSigner::create(*settings.upstream_token_signing,
                                              settings.verified_token_cache_entries, *deps.clock);
    if (!signer) {
      core::log::error("gateway_upstream_token_key_invalid",
                       {{"key", "gateway.upstream_token_signing.key_file"},
                        {"file", settings.upstream_token_signing->key_file},
                        {"error", signer.error().message()},
                        {"expected", "a private RSA (2048+), EC P-256 or Ed25519 key, PEM or JWK"}});
      return signer.error();
    }
    service->upstream_signer_ = std::move(*signer);
  }
  GatewayServiceImpl::register_scrape_metrics(service);
  return std::shared_ptr<GatewayService>(std::move(service));
}

}  // namespace fapigate::gw
