// Applying a new configuration to a running process (SIGHUP, `fapigate reload`), with no request
// dropped: everything new is built and checked first, then published with atomic swaps.
//   - TLS listeners get new contexts (certificate, key, client CA): new connections use them,
//     open connections keep theirs (http::Server::reload_tls);
//   - the gateway and the AS are rebuilt from their new settings and swapped behind a
//     HandlerSlot: a request runs to its end on the handler it started on;
//   - passthrough routes, default backend, timeouts and limit apply to new connections;
//   - log.level.
// Settings only a restart can change (listener addresses and ports, TLS on/off, threads,
// limits, store path, pid_file, log format, a role switched on or off) are reported, not
// applied. An invalid file changes nothing: each error is logged with its key.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"
#include "http/message.hpp"

namespace fapigate::http {
class Server;
}
namespace fapigate::passthrough {
class SniProxy;
}

namespace fapigate::cli {

// A handler that forwards to the one currently published. Each request keeps a reference to
// the handler it started on until its response is sent, so a swap never cuts one short.
class HandlerSlot final : public http::Handler {
public:
  explicit HandlerSlot(std::shared_ptr<http::Handler> initial) : current_(std::move(initial)) {}
  void handle(http::Request request, http::Responder respond) override;
  std::shared_ptr<http::Handler> current() const { return current_.load(); }
  // Publishes `next`; returns the previous handler (requests may still be running on it).
  std::shared_ptr<http::Handler> swap(std::shared_ptr<http::Handler> next) {
    return current_.exchange(std::move(next));
  }

private:
  std::atomic<std::shared_ptr<http::Handler>> current_;
};

// The settings that differ between `running` and `next` and need a restart, each as a key
// path ("gateway.listener.port", "threads"). Pure, for tests.
std::vector<std::string> restart_only_changes(const config::Config& running,
                                              const config::Config& next);

struct ReloadTargets {
  std::string config_path;
  config::Config running;  // as started: restart-only settings are compared against it
  http::Server* server = nullptr;
  passthrough::SniProxy* proxy = nullptr;
  std::shared_ptr<HandlerSlot> as_slot;       // null without the AS
  std::shared_ptr<HandlerSlot> gateway_slot;  // null without the gateway
  // Build a role from new settings (the same factories as at start).
  std::function<Result<std::shared_ptr<http::Handler>>(const config::AuthorizationServer&)>
      make_as;
  std::function<Result<std::shared_ptr<http::Handler>>(const config::Gateway&)> make_gateway;
  // "" once the new gateway has loaded every issuer's keys (polled before it is published).
  std::function<std::string(const http::Handler&)> gateway_not_ready;
  core::metrics::Registry* metrics = nullptr;
};

class Reloader {
public:
  explicit Reloader(ReloadTargets targets);
  // Runs on the signal-handling thread. true when the new configuration was applied.
  bool reload();
  // Drops replaced handlers no request uses any more (on this thread, never on a worker).
  void release_retired();

private:
  bool apply(const config::Config& next, std::vector<std::string>& applied);

  ReloadTargets t_;
  std::vector<std::shared_ptr<http::Handler>> retired_;
  core::metrics::Counter* ok_ = nullptr;
  core::metrics::Counter* rejected_ = nullptr;
  core::metrics::Counter* failed_ = nullptr;
};

// pid_file: written atomically (temporary file + rename); removed only if it still names us.
[[nodiscard]] bool write_pid_file(const std::string& path, std::string* error);
void remove_pid_file(const std::string& path);

}  // namespace fapigate::cli
