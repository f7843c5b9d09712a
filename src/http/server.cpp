// Listeners and workers: one io_context per thread, each with its own acceptor per listener on
// the same address:port (SO_REUSEPORT), so the kernel spreads connections over the threads.
#include "http/server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <openssl/ssl.h>

#include "core/log.hpp"
#include "http/session.hpp"
#include "tls/server_context.hpp"

namespace fapigate::http {

namespace detail {

//----------------------------------------------------------------------------------------------
// Registry, responder, error bodies

namespace {
thread_local net::io_context* t_worker_context = nullptr;
}  // namespace

bool Registry::add(SessionBase* s, std::weak_ptr<SessionBase> w) {
  std::lock_guard lock(mu_);
  if (stopping_) {
    return false;
  }
  sessions_.emplace(s, std::move(w));
  return true;
}

void Registry::remove(SessionBase* s) {
  std::lock_guard lock(mu_);
  sessions_.erase(s);
}

void Registry::set_stopping() {
  std::lock_guard lock(mu_);
  stopping_ = true;
}

std::size_t Registry::size() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

std::vector<std::shared_ptr<SessionBase>> Registry::snapshot() {
  std::vector<std::shared_ptr<SessionBase>> out;
  std::lock_guard lock(mu_);
  out.reserve(sessions_.size());
  for (auto& [ptr, weak] : sessions_) {
    if (auto s = weak.lock()) {
      out.push_back(std::move(s));
    }
  }
  return out;
}

ResponderState::~ResponderState() {
  if (!done_.load()) {
    counters_->handler_errors++;
    core::log::error("http_responder_dropped", {});
    respond(error_response(500, "server_error", "internal error"), true);
  }
}

void ResponderState::respond(Response response, bool close) {
  if (done_.exchange(true)) {
    core::log::error("http_responder_called_twice", {});
    return;
  }
  if (t_worker_context == link_.ioc) {
    // Already on the session's worker (a synchronous handler, or the gateway's upstream answer
    // in caller-worker mode): its io_context is running, so no gate, and no queue hop.
    if (auto s = session_.lock()) {
      s->deliver(std::move(response), close);
    }
    return;
  }
  std::lock_guard lock(link_.gate->mu);
  if (!link_.gate->open) {
    return;  // the server is gone
  }
  // Only a weak reference crosses threads: the session may close meanwhile.
  net::post(link_.ioc->get_executor(),
            [weak = session_, r = std::move(response), close]() mutable {
              if (auto s = weak.lock()) {
                s->deliver(std::move(r), close);
              }
            });
}

Response error_response(int status, std::string_view error, std::string_view description) {
  boost::json::object body;
  body["error"] = error;
  body["error_description"] = description;
  Response r = Response::json(status, boost::json::serialize(body));
  r.headers.set("Cache-Control", "no-store");
  return r;
}

net::io_context* current_worker_context() { return t_worker_context; }

bool valid_header_field(std::string_view name, std::string_view value) {
  if (name.empty() || name.size() > 256) {
    return false;
  }
  for (const unsigned char c : name) {
    const bool tchar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                       (c >= 'A' && c <= 'Z') ||
                       std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                           std::string_view::npos;
    if (!tchar) {
      return false;
    }
  }
  // Three vectorised memchr scans, not find_first_of (one memchr call per character).
  return value.find('\r') == std::string_view::npos && value.find('\n') == std::string_view::npos &&
         value.find('\0') == std::string_view::npos;
}

}  // namespace detail

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using reuse_port = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

class Acceptor : public std::enable_shared_from_this<Acceptor> {
public:
  Acceptor(net::io_context& ioc, std::shared_ptr<const detail::ListenerShared> listener,
           detail::WorkerLink link)
      : ioc_(ioc), acceptor_(ioc), retry_(ioc), listener_(std::move(listener)),
        link_(std::move(link)) {}

  ErrorCode open(const tcp::endpoint& endpoint) {
    beast::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
      acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor_.set_option(reuse_port(true), ec);
    }
    if (!ec) {
      acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
      acceptor_.listen(net::socket_base::max_listen_connections, ec);
    }
    return ec;
  }

  std::uint16_t port() const {
    beast::error_code ec;
    const auto ep = acceptor_.local_endpoint(ec);
    return ec ? 0 : ep.port();
  }

  void run() { do_accept(); }

  void close() {
    beast::error_code ec;
    acceptor_.close(ec);
    retry_.cancel();
  }

private:
  // No strand per connection: each io_context is run by exactly one thread (its worker), so
  // handlers of one session never run concurrently, and a strand would only add a queue hop
  // to every completion.
  void do_accept() {
    acceptor_.async_accept(ioc_.get_executor(),
                           beast::bind_front_handler(&Acceptor::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (!acceptor_.is_open()) {
      return;
    }
    if (ec) {
      // EMFILE and friends: back off instead of spinning.
      core::log::warn("http_accept_failed",
                      {{"listener", listener_->name}, {"reason", ec.message()}});
      retry_.expires_after(std::chrono::milliseconds(50));
      retry_.async_wait(beast::bind_front_handler(&Acceptor::on_retry, shared_from_this()));
      return;
    }
    listener_->counters->connections_accepted++;
    // Responses and requests are written whole; never hold them back for Nagle.
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (listener_->ssl) {
      detail::start_tls_session(std::move(socket), listener_, link_);
    } else {
      detail::start_plain_session(std::move(socket), listener_, link_);
    }
    do_accept();
  }

  void on_retry(beast::error_code ec) {
    if (ec || !acceptor_.is_open()) {
      return;
    }
    do_accept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
  std::shared_ptr<const detail::ListenerShared> listener_;
  detail::WorkerLink link_;
};

// Members in destruction order matter: sessions unregister while the io_context is destroyed,
// so the registry and gate are declared before it.
struct Worker {
  std::shared_ptr<detail::Gate> gate = std::make_shared<detail::Gate>();
  detail::Registry registry;
  net::io_context ioc{1};
  std::vector<std::shared_ptr<Acceptor>> acceptors;
  std::optional<net::steady_timer> drain_timer;
  std::chrono::steady_clock::time_point drain_deadline;
  std::thread thread;

  detail::WorkerLink link() { return detail::WorkerLink{&ioc, gate, &registry}; }
};

class ServerImpl final : public Server {
public:
  explicit ServerImpl(std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i) {
      workers_.push_back(std::make_unique<Worker>());
    }
  }

  ~ServerImpl() override {
    if (started_.load()) {
      stop(std::chrono::milliseconds(0));
      wait();
    }
    // No worker thread runs any more: close the gates, then every remaining session, before
    // the io_contexts (and the pending handlers holding sessions) are destroyed.
    for (auto& w : workers_) {
      {
        std::lock_guard lock(w->gate->mu);
        w->gate->open = false;
      }
      for (auto& a : w->acceptors) {
        a->close();
      }
      for (auto& s : w->registry.snapshot()) {
        s->close_now();
      }
      w->drain_timer.reset();
      w->acceptors.clear();
    }
    workers_.clear();
  }

  ErrorCode add_listener(ListenerSpec spec, const config::Limits& limits,
                         std::string* error_detail) {
    auto shared = std::make_shared<detail::ListenerShared>();
    shared->name = spec.name;
    shared->handler = std::move(spec.handler);
    shared->limits = limits;
    shared->counters = counters_;
    if (spec.listener.tls) {
      auto ctx = tls::make_server_context(*spec.listener.tls, error_detail);
      if (!ctx) {
        return ctx.error();
      }
      SSL_CTX_up_ref(ctx->native_handle());
      shared->ssl = std::make_unique<net::ssl::context>(ctx->native_handle());
    }
    std::string address = spec.listener.address;
    if (address == "localhost") {
      address = "127.0.0.1";
    }
    beast::error_code ec;
    const auto ip = net::ip::make_address(address, ec);
    if (ec) {
      *error_detail = "listener '" + spec.name + "': invalid address '" + address + "'";
      return ec;
    }
    std::uint16_t port = spec.listener.port;
    std::vector<std::shared_ptr<Acceptor>> acceptors;
    for (auto& w : workers_) {
      auto acceptor = std::make_shared<Acceptor>(w->ioc, shared, w->link());
      // The first acceptor may ask for any free port; the others join it on that port.
      ec = acceptor->open(tcp::endpoint(ip, port));
      if (ec) {
        *error_detail = "listener '" + spec.name + "': cannot listen on " + address + ":" +
                        std::to_string(port) + ": " + ec.message();
        return ec;
      }
      port = acceptor->port();
      acceptors.push_back(std::move(acceptor));
    }
    shared->port = port;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      workers_[i]->acceptors.push_back(std::move(acceptors[i]));
    }
    ports_.emplace_back(spec.name, port);
    listeners_.push_back(std::move(shared));
    return {};
  }

  ErrorCode reload_tls(const std::string& name, const config::Tls& tls,
                       std::string* error_detail) override {
    std::string detail;
    auto it = std::find_if(listeners_.begin(), listeners_.end(),
                           [&name](const auto& l) { return l->name == name; });
    if (it == listeners_.end() || !(*it)->ssl) {
      detail = "listener '" + name + "' has no TLS to reload";
      if (error_detail != nullptr) {
        *error_detail = detail;
      }
      return make_error_code(boost::system::errc::invalid_argument);
    }
    auto ctx = tls::make_server_context(tls, &detail);
    if (!ctx) {
      if (error_detail != nullptr) {
        *error_detail = "listener '" + name + "': " + detail;
      }
      return ctx.error();
    }
    SSL_CTX_up_ref(ctx->native_handle());
    (*it)->reloaded_ssl.store(std::make_shared<net::ssl::context>(ctx->native_handle()),
                              std::memory_order_release);
    return {};
  }

  void start() override {
    if (started_.exchange(true)) {
      return;
    }
    for (auto& w : workers_) {
      for (auto& a : w->acceptors) {
        a->run();
      }
      w->thread = std::thread(&ServerImpl::run_worker, w.get());
    }
  }

  void stop(std::chrono::milliseconds drain) override {
    if (stopped_.exchange(true)) {
      return;
    }
    for (auto& w : workers_) {
      net::post(w->ioc, beast::bind_front_handler(&ServerImpl::begin_stop, w.get(), drain));
    }
  }

  void wait() override {
    std::lock_guard lock(wait_mu_);
    for (auto& w : workers_) {
      if (w->thread.joinable()) {
        w->thread.join();
      }
    }
  }

  std::uint16_t bound_port(const std::string& name) const override {
    for (const auto& [n, p] : ports_) {
      if (n == name) {
        return p;
      }
    }
    return 0;
  }

  ServerStats stats() const override {
    ServerStats s;
    s.connections_accepted = counters_->connections_accepted.load();
    s.requests = counters_->requests.load();
    s.refused = counters_->refused.load();
    s.tls_handshake_failures = counters_->tls_handshake_failures.load();
    s.handler_errors = counters_->handler_errors.load();
    for (const auto& w : workers_) {
      s.active_connections += w->registry.size();
    }
    return s;
  }

private:
  static void run_worker(Worker* w) {
    detail::t_worker_context = &w->ioc;
    for (;;) {
      try {
        w->ioc.run();
        return;
      } catch (const std::exception& e) {
        // Nothing should throw out of a completion handler; keep the worker alive if it does.
        core::log::error("http_worker_exception", {{"reason", e.what()}});
      } catch (...) {
        core::log::error("http_worker_exception", {});
      }
    }
  }

  // On the worker's thread: stop accepting, close idle connections, let the others finish
  // their current request until the deadline.
  static void begin_stop(Worker* w, std::chrono::milliseconds drain) {
    for (auto& a : w->acceptors) {
      a->close();
    }
    w->registry.set_stopping();
    for (auto& s : w->registry.snapshot()) {
      s->server_stopping();
    }
    w->drain_deadline = std::chrono::steady_clock::now() + drain;
    w->drain_timer.emplace(w->ioc);
    drain_tick(w, {});
  }

  static void drain_tick(Worker* w, beast::error_code ec) {
    if (ec) {
      return;
    }
    if (w->registry.size() == 0) {
      // Nothing left: the io_context runs out of work and the thread ends. An outbound
      // exchange no session waits for any more must not hold it up to its own timeout.
      detail::abort_outbound_exchanges(w->ioc);
      return;
    }
    if (std::chrono::steady_clock::now() >= w->drain_deadline) {
      for (auto& s : w->registry.snapshot()) {
        s->force_close();
      }
      detail::abort_outbound_exchanges(w->ioc);
      return;
    }
    w->drain_timer->expires_after(std::chrono::milliseconds(10));
    w->drain_timer->async_wait(beast::bind_front_handler(&ServerImpl::drain_tick, w));
  }

  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::pair<std::string, std::uint16_t>> ports_;
  std::vector<std::shared_ptr<const detail::ListenerShared>> listeners_;  // for reload_tls
  std::shared_ptr<detail::Counters> counters_ = std::make_shared<detail::Counters>();
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::mutex wait_mu_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::create(ServerOptions options) {
  return create(std::move(options), nullptr);
}

Result<std::unique_ptr<Server>> Server::create(ServerOptions options, std::string* error_detail) {
  std::string detail;
  std::size_t threads = options.threads;
  if (threads == 0) {
    threads = std::max(1u, std::thread::hardware_concurrency());
  }
  auto server = std::make_unique<ServerImpl>(threads);
  for (auto& spec : options.listeners) {
    const std::string name = spec.name;
    ErrorCode ec;
    try {
      ec = server->add_listener(std::move(spec), options.limits, &detail);
    } catch (const std::exception& e) {
      detail = std::string("listener '") + name + "': " + e.what();
      ec = make_error_code(boost::system::errc::invalid_argument);
    }
    if (ec) {
      if (detail.find(name) == std::string::npos) {
        detail = "listener '" + name + "': " + detail;
      }
      core::log::error("http_listener_failed", {{"listener", name}, {"reason", detail}});
      if (error_detail != nullptr) {
        *error_detail = detail;
      }
      return ec;
    }
  }
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace fapigate::http
