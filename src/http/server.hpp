// The HTTP/1.1 server: listeners (plain or TLS with a per-listener client-certificate mode),
// one io_context per thread, keep-alive, limits on header/body size, header count and time.
// Beast and Asio stay behind this header (pimpl). start() returns once every listener is bound;
// stop() stops accepting, lets in-flight requests finish up to a deadline, then closes.
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

class Server {
public:
  // Loads TLS material, binds every listener; errors name the listener and file.
  [[nodiscard]] static Result<std::unique_ptr<Server>> create(ServerOptions options);
  virtual ~Server() = default;

  // Starts the worker threads and returns.
  virtual void start() = 0;
  // Graceful stop; safe to call from a signal-handling thread. Idempotent.
  virtual void stop(std::chrono::milliseconds drain = std::chrono::seconds(5)) = 0;
  // Blocks until the workers have exited.
  virtual void wait() = 0;
  // The port a listener is bound to (after create()), 0 if no such listener.
  virtual std::uint16_t bound_port(const std::string& listener_name) const = 0;
};

}  // namespace fapigate::http
