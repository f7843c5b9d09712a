// The passthrough listener: accepts TCP, reads the TLS ClientHello (bounded in size and time),
// picks a backend by its server name (config::Passthrough), connects, replays the bytes read,
// then copies both directions until both sides have closed (a half-close is passed on), with an
// idle timeout and a limit on open tunnels. Nothing is decrypted: the client's certificate goes
// to the backend's own handshake. Asio stays behind this header (pimpl), one io_context per
// thread as in http::Server. Thread-safe: update() and stats() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "config/model.hpp"
#include "core/result.hpp"

namespace fapigate::passthrough {

// Counters since create() (STYLE.md §7: counters are part of the contract).
struct ProxyStats {
  std::uint64_t accepted = 0;
  std::uint64_t routed = 0;            // by a matching server_name
  std::uint64_t defaulted = 0;         // to default_backend (no SNI, unknown name, fragmented)
  std::uint64_t no_backend = 0;        // closed: no route and no default_backend
  std::uint64_t malformed = 0;         // closed: not TLS, malformed or oversized ClientHello
  std::uint64_t hello_timeouts = 0;    // closed: no whole ClientHello in time
  std::uint64_t over_limit = 0;        // closed at accept: max_connections reached
  std::uint64_t backend_failures = 0;  // resolve / connect failed or timed out
  std::uint64_t idle_timeouts = 0;
  std::uint64_t active = 0;            // open tunnels now (a gauge)
};

class SniProxy {
public:
  // Binds the listener; errors name the address in *error_detail (when given).
  [[nodiscard]] static Result<std::unique_ptr<SniProxy>> create(const config::Passthrough& config,
                                                                std::uint32_t threads,
                                                                std::string* error_detail = nullptr);
  virtual ~SniProxy() = default;

  virtual void start() = 0;
  // Stops accepting; open tunnels may go on until `drain` has passed, then they are closed.
  virtual void stop(std::chrono::milliseconds drain) = 0;
  virtual void wait() = 0;
  virtual std::uint16_t port() const = 0;
  // Routes, default backend, timeouts and the connection limit for new connections (reload);
  // tunnels already open keep going. The listener address is not changed.
  virtual void update(const config::Passthrough& config) = 0;
  virtual ProxyStats stats() const = 0;
};

}  // namespace fapigate::passthrough
