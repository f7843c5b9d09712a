#include "cli/runtime.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>

#include "as/as_service.hpp"
#include "cli/admin.hpp"
#include "cli/reload.hpp"
#include "cli/commands.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/process.hpp"
#include "demoapi/demo_api.hpp"
#include "gateway/gateway_service.hpp"
#include "http/client.hpp"
#include "http/server.hpp"
#include "passthrough/sni_proxy.hpp"
#include "store/housekeeping.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace fapigate::cli {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// "" when every issuer's keys have loaded once, else which have not.
std::string jwks_not_ready(const gw::GatewayService& gateway) {
  std::string missing;
  for (const auto& s : gateway.issuer_status()) {
    if (!s.keys_loaded) {
      missing += missing.empty() ? "no keys loaded yet for " : ", ";
      missing += s.issuer;
    }
  }
  return missing;
}

// The same for whatever handler the gateway slot holds (always a GatewayService).
std::string gateway_not_ready(const http::Handler& handler) {
  const auto* gateway = dynamic_cast<const gw::GatewayService*>(&handler);
  return gateway == nullptr ? std::string() : jwks_not_ready(*gateway);
}

void register_passthrough_metrics(core::metrics::Registry& registry,
                                  const passthrough::SniProxy& proxy) {
  const passthrough::SniProxy* p = &proxy;
  constexpr const char* kName = "fapigate_passthrough_connections_total";
  constexpr const char* kHelp =
      "Connections on the passthrough listener by outcome: routed (by server name), defaulted "
      "(default_backend), no_backend, malformed, hello_timeout, over_limit, backend_failed, "
      "idle_timeout.";
  using Field = std::uint64_t passthrough::ProxyStats::*;
  for (auto [outcome, field] : {std::pair<const char*, Field>{"routed", &passthrough::ProxyStats::routed},
                                {"defaulted", &passthrough::ProxyStats::defaulted},
                                {"no_backend", &passthrough::ProxyStats::no_backend},
                                {"malformed", &passthrough::ProxyStats::malformed},
                                {"hello_timeout", &passthrough::ProxyStats::hello_timeouts},
                                {"over_limit", &passthrough::ProxyStats::over_limit},
                                {"backend_failed", &passthrough::ProxyStats::backend_failures},
                                {"idle_timeout", &passthrough::ProxyStats::idle_timeouts}}) {
    registry.counter_fn(kName, kHelp, {{"outcome", outcome}},
                        [p, member = field] { return p->stats().*member; });
  }
  registry.gauge_fn("fapigate_passthrough_connections_active", "Open passthrough tunnels.", {},
                    [p] { return static_cast<double>(p->stats().active); });
}

}  // namespace

void block_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_roles(const config::Config& config,
              const std::function<void(const BoundPorts&)>& on_ready,
              const std::string& config_path) {
  static const core::SystemClock clock;
  block_stop_signals();

  core::log::Level level = core::log::Level::Info;
  core::log::parse_level(config.log.level, level);
  core::log::configure(level, config.log.format != "text");
  // One descriptor per keep-alive connection: the soft default (often 1024) would cap them.
  core::raise_open_files_limit();

  // Declared before everything that registers into it (the roles hold pointers to their
  // series, the registry holds scrape callbacks into the server), so it is destroyed last.
  core::metrics::Registry metrics;
  std::unique_ptr<store::Store> store;
  std::shared_ptr<store::Housekeeper> housekeeper;  // after the store: goes before it
  http::ServerOptions options;
  options.threads = config.threads;
  options.limits = config.limits;

  // Roles sit behind slots so that a reload can swap them (cli/reload.hpp).
  std::shared_ptr<HandlerSlot> as_slot;
  std::shared_ptr<HandlerSlot> gateway_slot;
  gw::GatewayDeps gateway_deps;
  if (config.authorization_server.enabled) {
    auto opened = store::open_sqlite_store(config.store.sqlite_path);
    if (!opened) {
      core::log::error("store_open_failed",
                       {{"path", config.store.sqlite_path}, {"error", opened.error().message()}});
      return 1;
    }
    store = std::move(*opened);
    if (config.store.purge_interval_seconds > 0) {
      // A revoked-grant mark must outlive every token its grant can still have issued: the
      // longest token life, plus a day for codes, clock steps and stragglers.
      const auto& as_cfg = config.authorization_server;
      const std::int64_t retention =
          std::max(as_cfg.refresh_token_lifetime, as_cfg.access_token_lifetime) + 86'400;
      housekeeper = std::make_shared<store::Housekeeper>(
          *store, clock, std::chrono::seconds(config.store.purge_interval_seconds), retention);
      const std::weak_ptr<store::Housekeeper> weak = housekeeper;
      using store::PurgeCounts;
      using Count = std::pair<const char*, std::size_t PurgeCounts::*>;
      for (const auto& [kind, count] : {Count{"expired", &PurgeCounts::expired},
                                        Count{"replay", &PurgeCounts::replay},
                                        Count{"revoked_grants", &PurgeCounts::revoked_grants}}) {
        metrics.counter_fn("fapigate_store_purged_rows_total",
                           "Rows the store's upkeep removed: expired tokens and codes, expired "
                           "replay-cache entries, old revoked-grant marks.",
                           {{"kind", kind}}, [weak, count = count]() -> std::uint64_t {
                             auto h = weak.lock();
                             return h ? h->totals().*count : 0;
                           });
      }
    }
    auto as = as::AsService::create(config.authorization_server, *store, clock, &metrics,
                                    kek_from_environment());
    if (!as) {
      core::log::error("authorization_server_failed", {{"error", as.error().message()}});
      return 1;
    }
    as_slot = std::make_shared<HandlerSlot>(*as);
    options.listeners.push_back({kAsFront, config.authorization_server.front, as_slot});
    options.listeners.push_back({kAsMtls, config.authorization_server.mtls, as_slot});
  }

  std::shared_ptr<gw::GatewayService> gateway_service;
  if (config.gateway.enabled) {
    http::ClientOptions upstream_options;
    upstream_options.threads = 1;  // for calls from outside the server's workers
    // Proxied requests stay on the worker that serves them (one io_context per core): the
    // exchange, its keep-alive pool and the callback all run there, no thread hop.
    upstream_options.use_caller_worker = true;
    upstream_options.max_idle_per_origin = config.gateway.upstream_max_idle_connections;
    auto upstream = http::make_client(upstream_options);
    if (!upstream) {
      core::log::error("upstream_client_failed", {{"error", upstream.error().message()}});
      return 1;
    }
    gw::GatewayDeps deps;
    deps.clock = &clock;
    deps.metrics = &metrics;
    // Key ages are whole seconds (jwks_min_age >= 1): a look per second finds every due refresh.
    deps.key_refresh_tick = std::chrono::seconds(1);
    deps.upstream_client = *upstream;
    deps.upstream_tls_client = [idle = config.gateway.upstream_max_idle_connections](
                                   const config::UpstreamTls& t) {
      http::ClientOptions o;
      o.threads = 1;
      o.use_caller_worker = true;
      o.max_idle_per_origin = idle;
      o.ca_file = t.ca_file;
      o.client_cert_file = t.client_cert_file;
      o.client_key_file = t.client_key_file;
      return http::make_client(o);
    };
    deps.issuer_client = [](const config::Issuer& iss) {
      http::ClientOptions o;
      o.ca_file = iss.ca_file;
      o.client_cert_file = iss.client_cert_file;
      o.client_key_file = iss.client_key_file;
      return http::make_client(o);
    };
    gateway_deps = deps;  // a reload builds the new gateway with the same clients
    auto gateway = gw::GatewayService::create(config.gateway, std::move(deps));
    if (!gateway) {
      core::log::error("gateway_failed", {{"error", gateway.error().message()}});
      return 1;
    }
    gateway_service = *gateway;
    gateway_slot = std::make_shared<HandlerSlot>(*gateway);
    options.listeners.push_back({kGateway, config.gateway.listener, gateway_slot});
  }

  if (config.demo_api.enabled) {
    options.listeners.push_back({kDemoApi, config.demo_api.listener, demoapi::make_demo_api()});
  }

  if (options.listeners.empty()) {
    core::log::error("nothing_to_run", {{"hint", "enable authorization_server, gateway or demo_api"}});
    return 2;
  }

  // Ready = every listener accepting (set once started, cleared when stopping) and, for the
  // gateway, every issuer's keys loaded once: before that it would refuse every token.
  std::atomic<bool> serving{false};
  if (config.admin.enabled) {
    std::vector<ReadinessCheck> checks;
    checks.push_back({"listeners", [&serving] {
                        return serving.load() ? std::string() : std::string("not serving");
                      }});
    if (gateway_slot) {
      checks.push_back({"gateway_jwks", [slot = gateway_slot] {
                          return gateway_not_ready(*slot->current());
                        }});
    }
    std::vector<AdminDocument> documents;
    if (gateway_slot) {
      documents.push_back({"/upstream-jwks", [slot = gateway_slot] {
                             auto current = slot->current();
                             const auto* gateway =
                                 dynamic_cast<const gw::GatewayService*>(current.get());
                             return gateway ? gateway->upstream_jwks() : std::string();
                           }});
    }
    if (!config.admin.listener.tls && config.admin.allow_plaintext_remote) {
      core::log::warn("admin_plaintext_remote", {{"address", config.admin.listener.address},
                                                 {"note", "metrics are served in clear text"}});
    }
    options.listeners.push_back(
        {kAdmin, config.admin.listener, make_admin_handler(metrics, std::move(checks), std::move(documents))});
  }

  auto server = http::Server::create(std::move(options));
  if (!server) {
    core::log::error("listen_failed", {{"error", server.error().message()}});
    return 1;
  }
  register_server_metrics(metrics, **server);

  std::unique_ptr<passthrough::SniProxy> proxy;
  if (config.passthrough.enabled) {
    auto created = passthrough::SniProxy::create(config.passthrough, config.threads);
    if (!created) {
      core::log::error("listen_failed", {{"error", created.error().message()}});
      return 1;
    }
    proxy = std::move(*created);
    register_passthrough_metrics(metrics, *proxy);
  }
  if (!config.pid_file.empty()) {
    std::string error;
    if (!write_pid_file(config.pid_file, &error)) {
      core::log::error("pid_file_failed", {{"key", "pid_file"}, {"error", error}});
      return 1;
    }
  }

  ReloadTargets reload_targets;
  reload_targets.config_path = config_path;
  reload_targets.running = config;
  reload_targets.server = server->get();
  reload_targets.proxy = proxy.get();
  reload_targets.as_slot = as_slot;
  reload_targets.gateway_slot = gateway_slot;
  reload_targets.metrics = &metrics;
  reload_targets.make_as = [&store, &metrics](const config::AuthorizationServer& settings)
      -> Result<std::shared_ptr<http::Handler>> {
    auto as = as::AsService::create(settings, *store, clock, &metrics, kek_from_environment());
    if (!as) {
      return as.error();
    }
    return std::shared_ptr<http::Handler>(*as);
  };
  reload_targets.make_gateway = [&gateway_deps](const config::Gateway& settings)
      -> Result<std::shared_ptr<http::Handler>> {
    auto gateway = gw::GatewayService::create(settings, gateway_deps);
    if (!gateway) {
      return gateway.error();
    }
    (*gateway)->warm_up();
    return std::shared_ptr<http::Handler>(*gateway);
  };
  reload_targets.gateway_not_ready = gateway_not_ready;
  Reloader reloader(std::move(reload_targets));

  (*server)->start();
  if (proxy) {
    proxy->start();
  }
  if (gateway_service) {
    gateway_service->warm_up();
    gateway_service.reset();  // the slot owns it; a reload may replace it
  }
  serving = true;

  BoundPorts ports;
  for (const char* name : {kAsFront, kAsMtls, kGateway, kDemoApi, kAdmin}) {
    if (auto p = (*server)->bound_port(name)) {
      ports[name] = p;
    }
  }
  if (proxy) {
    ports[kPassthrough] = proxy->port();
  }
  on_ready(ports);

  sigset_t set = stop_signals();
  while (true) {
    // Woken each second to drop handlers a reload replaced once their last request is done.
    const timespec tick{1, 0};
    const int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig < 0) {
      reloader.release_retired();
      continue;
    }
    if (sig == SIGHUP) {
      reloader.reload();
      continue;
    }
    core::log::info("stopping", {{"signal", sig}});
    serving = false;
    break;
  }
  if (proxy) {
    proxy->stop(std::chrono::seconds(5));
  }
  (*server)->stop(std::chrono::seconds(5));
  (*server)->wait();
  if (proxy) {
    proxy->wait();
    proxy.reset();
  }
  server->reset();
  if (!config.pid_file.empty()) {
    remove_pid_file(config.pid_file);
  }
  store.reset();  // closes SQLite cleanly (WAL checkpoint)
  core::log::info("stopped");
  return 0;
}

}  // namespace fapigate::cli
