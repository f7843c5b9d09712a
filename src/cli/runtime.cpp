#include "cli/runtime.hpp"

#include <csignal>
#include <iostream>

#include "as/as_service.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
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
    auto as = as::AsService::create(config.authorization_server, *store, clock);
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
    upstream_options.threads = 1;
    auto upstream = http::make_client(upstream_options);
    if (!upstream) {
      core::log::error("upstream_client_failed", {{"error", upstream.error().message()}});
      return 1;
    }
    gw::GatewayDeps deps;
    deps.clock = &clock;
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

  auto server = http::Server::create(std::move(options));
  if (!server) {
    core::log::error("listen_failed", {{"error", server.error().message()}});
    return 1;
  }
  (*server)->start();
  if (gateway_service) {
    gateway_service->warm_up();
  }

  BoundPorts ports;
  for (const char* name : {kAsFront, kAsMtls, kGateway, kDemoApi}) {
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
