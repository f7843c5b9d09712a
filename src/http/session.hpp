// Internal to http/*.cpp (includes Asio): what the listener/worker code in server.cpp shares
// with the Session<Stream> instantiations in session_plain.cpp and session_tls.cpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "config/model.hpp"
#include "http/message.hpp"

namespace fapigate::http::detail {

namespace net = boost::asio;

struct Counters {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> refused{0};                 // 4xx answered by the server itself
  std::atomic<std::uint64_t> tls_handshake_failures{0};
  std::atomic<std::uint64_t> handler_errors{0};          // exceptions, dropped responders
};

// Read-only after Server::create.
struct ListenerShared {
  std::string name;
  std::shared_ptr<Handler> handler;
  config::Limits limits;
  std::uint16_t port = 0;
  std::unique_ptr<net::ssl::context> ssl;  // null: plain HTTP; the context loaded at create()
  std::shared_ptr<Counters> counters;
  // The context new connections use: `ssl` until Server::reload_tls publishes another. An open
  // connection keeps the SSL_CTX it started with (its SSL holds a reference), so a reload never
  // disturbs it. Read once per accepted connection.
  mutable std::atomic<std::shared_ptr<net::ssl::context>> reloaded_ssl;
  std::shared_ptr<net::ssl::context> tls_context() const {
    if (auto c = reloaded_ssl.load(std::memory_order_acquire)) {
      return c;
    }
    // Non-owning: `ssl` lives as long as this listener.
    return std::shared_ptr<net::ssl::context>(std::shared_ptr<void>(), ssl.get());
  }
};

// A worker's io_context may be reached from a responder on a foreign thread only while the
// gate is open; the server closes it (under the mutex) before destroying the io_context.
struct Gate {
  std::mutex mu;
  bool open = true;
};

class SessionBase {
public:
  virtual ~SessionBase() = default;
  // Graceful stop: close an idle connection now, otherwise after the current response.
  virtual void server_stopping() = 0;
  // Drain deadline passed: close and forget a pending handler (dispatched to the session).
  virtual void force_close() = 0;
  // The same, called directly when no worker thread runs any more.
  virtual void close_now() = 0;
  // A handler's response, on the worker thread; dispatched to the session.
  virtual void deliver(Response response, bool close) = 0;
};

// The live sessions of one worker, for graceful stop.
class Registry {
public:
  // false once stopping: the new session closes at once.
  bool add(SessionBase* s, std::weak_ptr<SessionBase> w);
  void remove(SessionBase* s);
  void set_stopping();
  std::size_t size();
  std::vector<std::shared_ptr<SessionBase>> snapshot();

private:
  std::mutex mu_;
  bool stopping_ = false;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
};

// What a session needs from its worker; the worker outlives its sessions.
struct WorkerLink {
  net::io_context* ioc = nullptr;
  std::shared_ptr<Gate> gate;
  Registry* registry = nullptr;
};

// The Responder behind http::Handler: exactly once, from any thread, harmless once the
// connection or the whole server has gone. Dropping it without a call answers 500.
class ResponderState {
public:
  ResponderState(WorkerLink link, std::weak_ptr<SessionBase> session,
                 std::shared_ptr<Counters> counters)
      : link_(std::move(link)), session_(std::move(session)), counters_(std::move(counters)) {}
  ~ResponderState();
  ResponderState(const ResponderState&) = delete;
  ResponderState& operator=(const ResponderState&) = delete;

  void respond(Response response, bool close);

private:
  WorkerLink link_;
  std::weak_ptr<SessionBase> session_;
  std::shared_ptr<Counters> counters_;
  std::atomic<bool> done_{false};
};

// The JSON error body the server itself answers with (RFC 6749 §5.2 shape).
Response error_response(int status, std::string_view error, std::string_view description);

// The io_context of the server worker that runs on the calling thread; null on any other thread
// (client threads, main, tests). Lets http::Client keep an upstream exchange and its callback on
// the worker that asked for it (ClientOptions::use_caller_worker): one io_context per core, no
// thread hop per proxied request.
net::io_context* current_worker_context();

// Called by a worker on its own thread when it stops serving (drain over or deadline passed):
// outbound exchanges still running on its io_context fail with operation_aborted, so the
// worker's run() does not wait for an upstream's timeout. Defined in client.cpp.
void abort_outbound_exchanges(net::io_context& ioc);

void start_plain_session(net::ip::tcp::socket socket,
                         std::shared_ptr<const ListenerShared> listener, WorkerLink link);
void start_tls_session(net::ip::tcp::socket socket,
                       std::shared_ptr<const ListenerShared> listener, WorkerLink link);

}  // namespace fapigate::http::detail
