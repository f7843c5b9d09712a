// The HTTP/1.1 server: listeners (plain or TLS with a per-listener client-certificate mode),
// one io_context per thread, keep-alive, limits on header/body size, header count and time.
// Beast and Asio stay behind this header (pimpl). start() returns once every listener is bound;
// stop() stops accepting, lets in-flight requests finish up to a deadline, then closes.
// Handlers run on the worker threads; their Responder may be called later from any thread.
// Destroying a started server stops it with no drain and waits for the workers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "core/result.hpp"
#include "http/message.hpp"

namespace fapigate::http {

struct ListenerSpec {
  std::string name;                   // for logs and bound_port()
  config::Listener listener;          // address, port (0 = any free), optional TLS
  std::shared_ptr<Handler> handler;
};

struct ServerOptions {
  std::uint32_t threads = 0;          // io_contexts; 0 = std::thread::hardware_concurrency()
  config::Limits limits;
  std::vector<ListenerSpec> listeners;
};

// Counters since create(), for tests and metrics (STYLE.md §7: counters are part of the contract).
struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t requests = 0;                // handed to a handler
  std::uint64_t refused = 0;                 // 4xx the server answered itself (limits, parse)
  std::uint64_t tls_handshake_failures = 0;
  std::uint64_t handler_errors = 0;          // handler exceptions and dropped responders (500)
  std::uint64_t active_connections = 0;      // open now (a gauge, not a counter)
};

class Server {
public:
  // Loads TLS material, binds every listener; errors name the listener and file (logged, and
  // in *error_detail when given).
  [[nodiscard]] static Result<std::unique_ptr<Server>> create(ServerOptions options);
  [[nodiscard]] static Result<std::unique_ptr<Server>> create(ServerOptions options,
                                                              std::string* error_detail);
  virtual ~Server() = default;

  // Starts the worker threads and returns.
  virtual void start() = 0;
  // Graceful stop; safe to call from a signal-handling thread. Idempotent.
  virtual void stop(std::chrono::milliseconds drain = std::chrono::seconds(5)) = 0;
  // Blocks until the workers have exited.
  virtual void wait() = 0;
  // The port a listener is bound to (after create()), 0 if no such listener.
  virtual std::uint16_t bound_port(const std::string& listener_name) const = 0;
  virtual ServerStats stats() const = 0;
  // Reload: loads `tls` (certificate, key, client CA, client-certificate mode) into a new
  // context for the TLS listener `listener_name`; connections accepted from then on use it,
  // open ones keep theirs. On any error (unknown or plain listener, unreadable or mismatched
  // files, named in *error_detail) nothing changes. Thread-safe.
  [[nodiscard]] virtual ErrorCode reload_tls(const std::string& listener_name,
                                             const config::Tls& tls,
                                             std::string* error_detail) = 0;
};

}  // namespace fapigate::http
