// Composition root shared by `serve` and `demo`: opens the store, builds the enabled roles,
// binds every listener, reports readiness, then blocks until SIGINT/SIGTERM and stops
// gracefully (in-flight requests finish, the store closes cleanly).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "config/model.hpp"

namespace fapigate::cli {

// Names of the listeners as run_roles binds them.
inline constexpr const char* kAsFront = "as_front";
inline constexpr const char* kAsMtls = "as_mtls";
inline constexpr const char* kGateway = "gateway";
inline constexpr const char* kDemoApi = "demo_api";
inline constexpr const char* kAdmin = "admin";  // metrics, health, readiness (config `admin`)
inline constexpr const char* kPassthrough = "passthrough";  // TLS passthrough by SNI

using BoundPorts = std::map<std::string, std::uint16_t>;

// Blocks SIGINT/SIGTERM/SIGHUP in this thread (and so in every thread started after it).
void block_stop_signals();

// Returns the process exit code. `on_ready` runs once every listener is accepting. SIGHUP
// re-reads `config_path` and applies what it can (cli/reload.hpp); without a path (the demo's
// generated configuration) a SIGHUP is logged and ignored.
int run_roles(const config::Config& config, const std::function<void(const BoundPorts&)>& on_ready,
              const std::string& config_path = {});

}  // namespace fapigate::cli
