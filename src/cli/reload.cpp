#include "cli/reload.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "config/loader.hpp"
#include "core/log.hpp"
#include "http/server.hpp"
#include "passthrough/sni_proxy.hpp"
#include "tls/server_context.hpp"

namespace fapigate::cli {

void HandlerSlot::handle(http::Request request, http::Responder respond) {
  auto h = current_.load();
  // The responder holds the handler: an in-flight request finishes on the handler it began on.
  http::Handler& handler = *h;
  handler.handle(std::move(request),
                 [h = std::move(h), respond = std::move(respond)](http::Response r) {
                   respond(std::move(r));
                 });
}

namespace {

struct NamedListener {
  const char* server_name;  // as run_roles binds it
  const char* key;          // its config key
  bool enabled;
  const config::Listener* listener;
};

std::vector<NamedListener> listeners_of(const config::Config& c) {
  return {
      {kAsFront, "authorization_server.front", c.authorization_server.enabled,
       &c.authorization_server.front},
      {kAsMtls, "authorization_server.mtls", c.authorization_server.enabled,
       &c.authorization_server.mtls},
      {kGateway, "gateway.listener", c.gateway.enabled, &c.gateway.listener},
      {kDemoApi, "demo_api.listener", c.demo_api.enabled, &c.demo_api.listener},
      {kAdmin, "admin.listener", c.admin.enabled, &c.admin.listener},
      {"passthrough", "passthrough.listener", c.passthrough.enabled, &c.passthrough.listener},
  };
}

bool same_limits(const config::Limits& a, const config::Limits& b) {
  return a.max_header_bytes == b.max_header_bytes && a.max_header_count == b.max_header_count &&
         a.max_body_bytes == b.max_body_bytes && a.handshake_timeout_ms == b.handshake_timeout_ms &&
         a.read_timeout_ms == b.read_timeout_ms && a.idle_timeout_ms == b.idle_timeout_ms &&
         a.write_timeout_ms == b.write_timeout_ms &&
         a.max_requests_per_connection == b.max_requests_per_connection;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += out.empty() ? "" : ", ";
    out += s;
  }
  return out;
}

}  // namespace

std::vector<std::string> restart_only_changes(const config::Config& running,
                                              const config::Config& next) {
  std::vector<std::string> out;
  if (running.threads != next.threads) {
    out.push_back("threads");
  }
  if (!same_limits(running.limits, next.limits)) {
    out.push_back("limits");
  }
  if (running.store.sqlite_path != next.store.sqlite_path) {
    out.push_back("store.sqlite_path");
  }
  if (running.store.purge_interval_seconds != next.store.purge_interval_seconds) {
    out.push_back("store.purge_interval_seconds");
  }
  if (running.pid_file != next.pid_file) {
    out.push_back("pid_file");
  }
  if (running.log.format != next.log.format) {
    out.push_back("log.format");
  }
  // The upstream clients (and their keep-alive pools) outlive a reload.
  if (running.gateway.upstream_max_idle_connections != next.gateway.upstream_max_idle_connections) {
    out.push_back("gateway.upstream_max_idle_connections");
  }
  const auto a = listeners_of(running);
  const auto b = listeners_of(next);
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string key = a[i].key;
    const std::string role = key.substr(0, key.find('.'));
    if (a[i].enabled != b[i].enabled) {
      // One entry per role, not per listener.
      if (out.empty() || out.back() != role + ".enabled") {
        out.push_back(role + ".enabled");
      }
      continue;
    }
    if (!a[i].enabled) {
      continue;
    }
    if (a[i].listener->address != b[i].listener->address) {
      out.push_back(key + ".address");
    }
    if (a[i].listener->port != b[i].listener->port) {
      out.push_back(key + ".port");
    }
    if (a[i].listener->tls.has_value() != b[i].listener->tls.has_value()) {
      out.push_back(key + ".tls");
    }
  }
  return out;
}

Reloader::Reloader(ReloadTargets targets) : t_(std::move(targets)) {
  if (t_.metrics != nullptr) {
    constexpr const char* kName = "fapigate_reloads_total";
    constexpr const char* kHelp =
        "Configuration reloads (SIGHUP, fapigate reload) by outcome: applied, rejected (invalid "
        "file), failed (a role or TLS file could not be loaded).";
    ok_ = &t_.metrics->counter(kName, kHelp, {{"outcome", "applied"}});
    rejected_ = &t_.metrics->counter(kName, kHelp, {{"outcome", "rejected"}});
    failed_ = &t_.metrics->counter(kName, kHelp, {{"outcome", "failed"}});
  }
}

bool Reloader::reload() {
  const auto started = std::chrono::steady_clock::now();
  core::log::info("reload_started", {{"config", t_.config_path}});
  if (t_.config_path.empty()) {
    core::log::warn("reload_unavailable",
                    {{"reason", "this process was not started from a configuration file"}});
    if (rejected_) rejected_->inc();
    return false;
  }
  auto loaded = config::load_file(t_.config_path);
  if (!loaded.ok()) {
    // Each message names the file and the key (config/loader.hpp); the old settings stay.
    for (const auto& e : loaded.errors) {
      core::log::error("reload_config_invalid", {{"error", e}});
    }
    core::log::error("reload_rejected", {{"config", t_.config_path},
                                         {"errors", static_cast<unsigned long>(loaded.errors.size())},
                                         {"note", "the running configuration is unchanged"}});
    if (rejected_) rejected_->inc();
    return false;
  }
  const auto restart = restart_only_changes(t_.running, loaded.config);
  for (const auto& key : restart) {
    core::log::warn("reload_needs_restart",
                    {{"key", key}, {"note", "changed in the file; applied at the next start"}});
  }
  std::vector<std::string> applied;
  if (!apply(loaded.config, applied)) {
    if (failed_) failed_->inc();
    return false;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  core::log::info("reload_applied", {{"config", t_.config_path},
                                     {"applied", join(applied)},
                                     {"needs_restart", join(restart)},
                                     {"duration_ms", static_cast<long long>(ms)}});
  if (ok_) ok_->inc();
  return true;
}

bool Reloader::apply(const config::Config& next, std::vector<std::string>& applied) {
  auto fail = [this](const std::string& key, const std::string& error) {
    core::log::error("reload_failed", {{"config", t_.config_path},
                                       {"key", key},
                                       {"error", error},
                                       {"note", "the running configuration is unchanged"}});
    return false;
  };

  // 1. Build everything first; nothing is published until all of it loaded.
  struct TlsChange {
    const char* name;
    const char* key;
    config::Tls tls;
  };
  std::vector<TlsChange> tls_changes;
  const auto now_l = listeners_of(t_.running);
  const auto next_l = listeners_of(next);
  for (std::size_t i = 0; i < now_l.size(); ++i) {
    if (!now_l[i].enabled || !next_l[i].enabled || !now_l[i].listener->tls ||
        !next_l[i].listener->tls) {
      continue;
    }
    std::string detail;
    if (!tls::make_server_context(*next_l[i].listener->tls, &detail)) {
      return fail(std::string(next_l[i].key) + ".tls", detail);
    }
    tls_changes.push_back({now_l[i].server_name, now_l[i].key, *next_l[i].listener->tls});
  }

  std::shared_ptr<http::Handler> new_as;
  if (t_.as_slot && next.authorization_server.enabled) {
    auto as = t_.make_as(next.authorization_server);
    if (!as) {
      return fail("authorization_server", as.error().message());
    }
    new_as = *as;
  }

  std::shared_ptr<http::Handler> new_gateway;
  if (t_.gateway_slot && next.gateway.enabled) {
    auto gw = t_.make_gateway(next.gateway);
    if (!gw) {
      return fail("gateway", gw.error().message());
    }
    new_gateway = *gw;
    // The new gateway must not refuse tokens for want of keys the old one had: wait (bounded)
    // for every issuer's JWKS before publishing it.
    if (t_.gateway_not_ready) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      std::string missing = t_.gateway_not_ready(*new_gateway);
      while (!missing.empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        missing = t_.gateway_not_ready(*new_gateway);
      }
      if (!missing.empty()) {
        return fail("gateway.issuers", missing);
      }
    }
  }

  // 2. Publish. Each step is a swap that cannot fail half-way (reload_tls only fails on files,
  // which were just loaded; if one changed in between, that listener keeps its old context).
  for (const auto& c : tls_changes) {
    std::string detail;
    if (t_.server->reload_tls(c.name, c.tls, &detail)) {
      core::log::error("reload_tls_failed", {{"key", std::string(c.key) + ".tls"},
                                             {"error", detail}});
    } else {
      applied.push_back(std::string(c.key) + ".tls");
    }
  }
  if (new_as) {
    retired_.push_back(t_.as_slot->swap(std::move(new_as)));
    applied.push_back("authorization_server");
  }
  if (new_gateway) {
    retired_.push_back(t_.gateway_slot->swap(std::move(new_gateway)));
    applied.push_back("gateway");
  }
  if (t_.proxy != nullptr && next.passthrough.enabled) {
    t_.proxy->update(next.passthrough);
    applied.push_back("passthrough");
  }
  core::log::Level level = core::log::Level::Info;
  if (core::log::parse_level(next.log.level, level)) {
    core::log::configure(level, t_.running.log.format != "text");
    applied.push_back("log.level");
  }
  release_retired();
  return true;
}

void Reloader::release_retired() {
  // use_count 1: only this list holds it (no slot publishes it, no request runs on it), so it
  // is destroyed here, on the signal thread, never inside a worker's completion handler.
  std::erase_if(retired_, [](const std::shared_ptr<http::Handler>& h) { return h.use_count() == 1; });
}

//------------------------------------------------------------------------------------------------
// pid file

bool write_pid_file(const std::string& path, std::string* error) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << ::getpid() << "\n";
    out.close();
    if (!out) {
      *error = "cannot write '" + tmp + "': " + std::strerror(errno);
      return false;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

namespace {

// The pid in the file, or -1.
long read_pid(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read pid file '" + path + "': " + std::strerror(errno);
    return -1;
  }
  std::string line;
  std::getline(in, line);
  if (line.empty() || line.size() > 10 ||
      line.find_first_not_of("0123456789") != std::string::npos) {
    *error = "pid file '" + path + "' does not hold a process id";
    return -1;
  }
  const long pid = std::stol(line);
  if (pid <= 1) {
    *error = "pid file '" + path + "' does not hold a process id";
    return -1;
  }
  return pid;
}

}  // namespace

void remove_pid_file(const std::string& path) {
  std::string ignored;
  if (read_pid(path, &ignored) == ::getpid()) {
    ::unlink(path.c_str());
  }
}

int run_reload(const std::string& config_path, const std::string& pid_file_option) {
  std::string pid_file = pid_file_option;
  if (!config_path.empty()) {
    // Tell the operator now rather than only in the server's log: the running process would
    // refuse this file too.
    auto loaded = config::load_file(config_path);
    if (!loaded.ok()) {
      for (const auto& e : loaded.errors) {
        std::cerr << "fapigate reload: " << e << "\n";
      }
      std::cerr << "fapigate reload: not signalled; the running configuration is unchanged\n";
      return 2;
    }
    if (pid_file.empty()) {
      pid_file = loaded.config.pid_file;
    }
  }
  if (pid_file.empty()) {
    std::cerr << "fapigate reload: no pid file: set pid_file in the configuration or pass "
                 "--pid-file\n";
    return 2;
  }
  std::string error;
  const long pid = read_pid(pid_file, &error);
  if (pid < 0) {
    std::cerr << "fapigate reload: " << error << "\n";
    return 1;
  }
  // A stale pid file may name an unrelated process by now: only a fapigate gets the signal.
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  if (name.rfind("fapigate", 0) != 0) {
    std::cerr << "fapigate reload: process " << pid << " (from " << pid_file
              << ") is not a running fapigate\n";
    return 1;
  }
  if (::kill(static_cast<pid_t>(pid), SIGHUP) != 0) {
    std::cerr << "fapigate reload: cannot signal process " << pid << ": " << std::strerror(errno)
              << "\n";
    return 1;
  }
  std::cout << "fapigate reload: sent SIGHUP to process " << pid
            << "; its log reports reload_applied or reload_rejected\n";
  return 0;
}

}  // namespace fapigate::cli
