#include "cli/runtime.hpp"

#include <atomic>
#include <csignal>
#include <iostream>

#include "as/as_service.hpp"
#include "cli/admin.hpp"
#include "cli/commands.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "demoapi/demo_api.hpp"
#include "gateway/gateway_service.hpp"
#include "http/client.hpp"
#include "http/server.hpp"
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

}  // namespace

void block_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_roles(const config::Config& config,
              const std::function<void(const BoundPorts&)>& on_ready) {
  static const core::SystemClock clock;
  block_stop_signals();

  core::log::Level level = core::log::Level::Info;
  core::log::parse_level(config.log.level, level);
  core::log::configure(level, config.log.format != "text");

  // Declared before everything that registers into it (the roles hold pointers to their
  // series, the registry holds scrape callbacks into the server), so it is destroyed last.
  core::metrics::Registry metrics;
  std::unique_ptr<store::Store> store;
  http::ServerOptions options;
  options.threads = config.threads;
  options.limits = config.limits;

  if (config.authorization_server.enabled) {
    auto opened = store::open_sqlite_store(config.store.sqlite_path);
    if (!opened) {
      core::log::error("store_open_failed",
                       {{"path", config.store.sqlite_path}, {"error", opened.error().message()}});
      return 1;
    }
    store = std::move(*opened);
    auto as = as::AsService::create(config.authorization_server, *store, clock, &metrics,
                                    kek_from_environment());
    if (!as) {
      core::log::error("authorization_server_failed", {{"error", as.error().message()}});
      return 1;
    }
    options.listeners.push_back({kAsFront, config.authorization_server.front, *as});
    options.listeners.push_back({kAsMtls, config.authorization_server.mtls, *as});
  }

  std::shared_ptr<gw::GatewayService> gateway_service;
  if (config.gateway.enabled) {
    http::ClientOptions upstream_options;
    upstream_options.threads = 1;  // for calls from outside the server's workers
    // Proxied requests stay on the worker that serves them (one io_context per core): the
    // exchange, its keep-alive pool and the callback all run there, no thread hop.
    upstream_options.use_caller_worker = true;
    auto upstream = http::make_client(upstream_options);
    if (!upstream) {
      core::log::error("upstream_client_failed", {{"error", upstream.error().message()}});
      return 1;
    }
    gw::GatewayDeps deps;
    deps.clock = &clock;
    deps.metrics = &metrics;
    deps.upstream_client = *upstream;
    deps.issuer_client = [](const config::Issuer& iss) {
      http::ClientOptions o;
      o.ca_file = iss.ca_file;
      o.client_cert_file = iss.client_cert_file;
      o.client_key_file = iss.client_key_file;
      return http::make_client(o);
    };
    auto gateway = gw::GatewayService::create(config.gateway, std::move(deps));
    if (!gateway) {
      core::log::error("gateway_failed", {{"error", gateway.error().message()}});
      return 1;
    }
    gateway_service = *gateway;
    options.listeners.push_back({kGateway, config.gateway.listener, *gateway});
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
    if (gateway_service) {
      checks.push_back({"gateway_jwks", [gw = gateway_service] { return jwks_not_ready(*gw); }});
    }
    if (!config.admin.listener.tls && config.admin.allow_plaintext_remote) {
      core::log::warn("admin_plaintext_remote", {{"address", config.admin.listener.address},
                                                 {"note", "metrics are served in clear text"}});
    }
    options.listeners.push_back(
        {kAdmin, config.admin.listener, make_admin_handler(metrics, std::move(checks))});
  }

  auto server = http::Server::create(std::move(options));
  if (!server) {
    core::log::error("listen_failed", {{"error", server.error().message()}});
    return 1;
  }
  register_server_metrics(metrics, **server);
  (*server)->start();
  if (gateway_service) {
    gateway_service->warm_up();
  }
  serving = true;

  BoundPorts ports;
  for (const char* name : {kAsFront, kAsMtls, kGateway, kDemoApi, kAdmin}) {
    if (auto p = (*server)->bound_port(name)) {
      ports[name] = p;
    }
  }
  on_ready(ports);

  sigset_t set = stop_signals();
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) {
      continue;
    }
    if (sig == SIGHUP) {
      core::log::info("sighup_ignored", {{"note", "configuration reload is not implemented yet"}});
      continue;
    }
    core::log::info("stopping", {{"signal", sig}});
    serving = false;
    break;
  }
  (*server)->stop(std::chrono::seconds(5));
  (*server)->wait();
  server->reset();
  store.reset();  // closes SQLite cleanly (WAL checkpoint)
  core::log::info("stopped");
  return 0;
}

}  // namespace fapigate::cli
