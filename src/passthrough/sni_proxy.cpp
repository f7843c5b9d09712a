// One io_context per thread, each with its own acceptor on the same address:port (SO_REUSEPORT,
// as http::Server). A tunnel lives on the io_context that accepted it, so its handlers never
// run concurrently and need no strand.
#include "passthrough/sni_proxy.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>
#include <unordered_set>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "core/log.hpp"
#include "passthrough/client_hello.hpp"

namespace fapigate::passthrough {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using boost::beast::bind_front_handler;
using reuse_port = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
using Clock = std::chrono::steady_clock;

// The routing table, frozen; update() publishes a new one.
struct Table {
  std::vector<std::pair<std::string, config::HostPort>> exact;     // lower-case name
  std::vector<std::pair<std::string, config::HostPort>> wildcard;  // ".example.com"
  std::optional<config::HostPort> fallback;
  std::chrono::milliseconds hello_timeout{10'000};
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds idle_timeout{300'000};
  std::uint64_t max_connections = 10'000;

  // null: no backend for this name (and no default). by_name: matched a route, not the default.
  const config::HostPort* lookup(const std::string& name, bool& by_name) const {
    by_name = false;
    if (!name.empty()) {
      for (const auto& [n, hp] : exact) {
        if (n == name) {
          by_name = true;
          return &hp;
        }
      }
      // "*.example.com" stands for exactly one leftmost label (RFC 6125 §6.4.3).
      const auto dot = name.find('.');
      if (dot != std::string::npos && dot > 0) {
        const std::string_view suffix = std::string_view(name).substr(dot);
        for (const auto& [s, hp] : wildcard) {
          if (s == suffix) {
            by_name = true;
            return &hp;
          }
        }
      }
    }
    return fallback ? &*fallback : nullptr;
  }
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return s;
}

std::shared_ptr<const Table> make_table(const config::Passthrough& c) {
  auto t = std::make_shared<Table>();
  for (const auto& r : c.routes) {
    auto hp = config::parse_host_port(r.backend);
    if (!hp) {
      continue;  // validate() refused it already
    }
    std::string name = lower(r.server_name);
    if (name.rfind("*.", 0) == 0) {
      t->wildcard.emplace_back(name.substr(1), *hp);
    } else {
      t->exact.emplace_back(std::move(name), *hp);
    }
  }
  if (!c.default_backend.empty()) {
    t->fallback = config::parse_host_port(c.default_backend);
  }
  t->hello_timeout = std::chrono::milliseconds(c.client_hello_timeout_ms);
  t->connect_timeout = std::chrono::milliseconds(c.connect_timeout_ms);
  t->idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
  t->max_connections = c.max_connections;
  return t;
}

struct Counters {
  std::atomic<std::uint64_t> accepted{0}, routed{0}, defaulted{0}, no_backend{0}, malformed{0},
      hello_timeouts{0}, over_limit{0}, backend_failures{0}, idle_timeouts{0}, active{0};
};

struct Shared {
  std::atomic<std::shared_ptr<const Table>> table;
  Counters counters;
};

class Tunnel;

// Per io_context; touched only on its thread (the registry too). The registry is declared
// before the io_context: tunnels still queued in it unregister while it is destroyed.
struct Worker {
  std::unordered_set<Tunnel*> tunnels;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::steady_timer retry{ioc};
  std::optional<net::steady_timer> drain_timer;
  Clock::time_point drain_deadline;
  bool stopping = false;
  std::thread thread;
};

constexpr std::size_t kChunk = 16 * 1024;

class Tunnel : public std::enable_shared_from_this<Tunnel> {
public:
  Tunnel(tcp::socket client, Worker& worker, std::shared_ptr<Shared> shared)
      : client_(std::move(client)),
        backend_(worker.ioc),
        resolver_(worker.ioc),
        timer_(worker.ioc),
        worker_(worker),
        shared_(std::move(shared)),
        table_(shared_->table.load()) {
    shared_->counters.active++;
    worker_.tunnels.insert(this);
    error_code ec;
    const auto ep = client_.remote_endpoint(ec);
    remote_ = ec ? std::string() : ep.address().to_string();
  }

  ~Tunnel() {
    worker_.tunnels.erase(this);
    shared_->counters.active--;
  }

  void start() {
    hello_.resize(kRecordHeaderBytes);
    timer_.expires_after(table_->hello_timeout);
    timer_.async_wait(bind_front_handler(&Tunnel::on_hello_timeout, shared_from_this()));
    do_read_hello();
  }

  // Stop or deadline: both sockets closed, every pending operation ends with an error.
  void close() {
    closed_ = true;
    error_code ignored;
    client_.close(ignored);
    backend_.close(ignored);
    resolver_.cancel();
    timer_.cancel();
  }

private:
  //--------------------------------------------------------------------------------------------
  // ClientHello: read until the first record is whole (bounded by its own length, at most
  // 5 + 2^14 bytes), then parse it once.

  void do_read_hello() {
    client_.async_read_some(net::buffer(hello_.data() + hello_len_, hello_.size() - hello_len_),
                            bind_front_handler(&Tunnel::on_read_hello, shared_from_this()));
  }

  void on_read_hello(error_code ec, std::size_t n) {
    if (ec) {
      return close();  // the client left (or the hello timer closed the socket)
    }
    hello_len_ += n;
    const ClientHello hello = parse_client_hello({hello_.data(), hello_len_});
    switch (hello.status) {
      case HelloStatus::NeedMore:
        if (hello.needed > hello_.size()) {
          hello_.resize(std::min(hello.needed, kMaxClientHelloBytes));
        }
        return do_read_hello();
      case HelloStatus::Ok:
      case HelloStatus::Fragmented:
        return route(hello.server_name);
      case HelloStatus::NotTls:
      case HelloStatus::Malformed:
      case HelloStatus::TooLarge:
        break;
    }
    shared_->counters.malformed++;
    core::log::warn("passthrough_refused", {{"remote", remote_},
                                            {"reason", to_string(hello.status)},
                                            {"detail", hello.detail}});
    close();
  }

  void on_hello_timeout(error_code ec) {
    if (ec || closed_ || phase_ != Phase::Hello) {
      return;
    }
    shared_->counters.hello_timeouts++;
    core::log::debug("passthrough_hello_timeout", {{"remote", remote_}});
    close();
  }

  void route(const std::string& name) {
    bool by_name = false;
    const config::HostPort* target = table_->lookup(name, by_name);
    if (target == nullptr) {
      shared_->counters.no_backend++;
      core::log::warn("passthrough_no_backend",
                      {{"remote", remote_}, {"server_name", name.substr(0, 253)}});
      return close();
    }
    (by_name ? shared_->counters.routed : shared_->counters.defaulted)++;
    target_ = *target;
    phase_ = Phase::Connect;
    timer_.cancel();
    timer_.expires_after(table_->connect_timeout);
    timer_.async_wait(bind_front_handler(&Tunnel::on_connect_timeout, shared_from_this()));
    resolver_.async_resolve(target_.host, std::to_string(target_.port),
                            bind_front_handler(&Tunnel::on_resolve, shared_from_this()));
  }

  //--------------------------------------------------------------------------------------------
  // Backend: resolve, connect (under connect_timeout), replay what the client sent.

  void on_connect_timeout(error_code ec) {
    if (ec || closed_ || phase_ != Phase::Connect) {
      return;
    }
    backend_failed("connect timeout");
  }

  void on_resolve(error_code ec, tcp::resolver::results_type results) {
    if (closed_) {
      return;
    }
    if (ec) {
      return backend_failed(ec.message());
    }
    net::async_connect(backend_, results,
                       bind_front_handler(&Tunnel::on_connect, shared_from_this()));
  }

  void on_connect(error_code ec, const tcp::endpoint&) {
    if (closed_) {
      return;
    }
    if (ec) {
      return backend_failed(ec.message());
    }
    phase_ = Phase::Splice;
    timer_.cancel();
    error_code ignored;
    backend_.set_option(tcp::no_delay(true), ignored);
    client_.set_option(tcp::no_delay(true), ignored);
    net::async_write(backend_, net::buffer(hello_.data(), hello_len_),
                     bind_front_handler(&Tunnel::on_replayed, shared_from_this()));
  }

  void backend_failed(const std::string& reason) {
    shared_->counters.backend_failures++;
    core::log::warn("passthrough_backend_failed",
                    {{"remote", remote_},
                     {"backend", target_.host + ":" + std::to_string(target_.port)},
                     {"reason", reason}});
    close();
  }

  void on_replayed(error_code ec, std::size_t) {
    if (ec || closed_) {
      return close();
    }
    hello_ = {};  // the replay buffer is not needed any more
    last_activity_ = Clock::now();
    arm_idle();
    pump(kUp);
    pump(kDown);
  }

  //--------------------------------------------------------------------------------------------
  // Splicing. Each direction reads into its own buffer and writes it whole before reading again.
  // EOF from one side is passed on as a half-close (shutdown send) to the other; the tunnel ends
  // when both directions are done, or at once on an error.

  static constexpr int kUp = 0;    // client -> backend
  static constexpr int kDown = 1;  // backend -> client

  tcp::socket& from(int dir) { return dir == kUp ? client_ : backend_; }
  tcp::socket& to(int dir) { return dir == kUp ? backend_ : client_; }

  void pump(int dir) {
    if (!buffers_[dir]) {
      buffers_[dir] = std::make_unique<std::uint8_t[]>(kChunk);
    }
    from(dir).async_read_some(net::buffer(buffers_[dir].get(), kChunk),
                              bind_front_handler(&Tunnel::on_pump_read, shared_from_this(), dir));
  }

  void on_pump_read(int dir, error_code ec, std::size_t n) {
    if (closed_) {
      return;
    }
    if (ec == net::error::eof) {
      error_code ignored;
      to(dir).shutdown(tcp::socket::shutdown_send, ignored);
      done_[dir] = true;
      buffers_[dir].reset();
      if (done_[kUp] && done_[kDown]) {
        close();
      }
      return;
    }
    if (ec) {
      return close();
    }
    last_activity_ = Clock::now();
    net::async_write(to(dir), net::buffer(buffers_[dir].get(), n),
                     bind_front_handler(&Tunnel::on_pump_write, shared_from_this(), dir));
  }

  void on_pump_write(int dir, error_code ec, std::size_t) {
    if (ec || closed_) {
      return close();
    }
    pump(dir);
  }

  void arm_idle() {
    timer_.expires_at(last_activity_ + table_->idle_timeout);
    timer_.async_wait(bind_front_handler(&Tunnel::on_idle, shared_from_this()));
  }

  // One timer for the whole tunnel: reads only record the time, the timer re-arms itself
  // until a whole idle_timeout has passed without a byte either way.
  void on_idle(error_code ec) {
    if (ec || closed_) {
      return;
    }
    if (Clock::now() - last_activity_ >= table_->idle_timeout) {
      shared_->counters.idle_timeouts++;
      core::log::debug("passthrough_idle_timeout", {{"remote", remote_}});
      return close();
    }
    arm_idle();
  }

  enum class Phase { Hello, Connect, Splice };

  tcp::socket client_;
  tcp::socket backend_;
  tcp::resolver resolver_;
  net::steady_timer timer_;
  Worker& worker_;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<const Table> table_;  // the table this connection started with
  std::string remote_;
  std::vector<std::uint8_t> hello_;
  std::size_t hello_len_ = 0;
  config::HostPort target_;
  std::array<std::unique_ptr<std::uint8_t[]>, 2> buffers_;
  std::array<bool, 2> done_{false, false};
  Clock::time_point last_activity_;
  Phase phase_ = Phase::Hello;
  bool closed_ = false;
};

class SniProxyImpl final : public SniProxy {
public:
  SniProxyImpl(std::size_t threads, std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {
    for (std::size_t i = 0; i < threads; ++i) {
      workers_.push_back(std::make_unique<Worker>());
    }
  }

  ~SniProxyImpl() override {
    if (started_.load()) {
      stop(std::chrono::milliseconds(0));
      wait();
    }
    for (auto& w : workers_) {
      error_code ignored;
      w->acceptor.close(ignored);
      // Close what is left, then destroy pending handlers (and with them the tunnels) while the
      // worker struct is still whole.
      std::vector<Tunnel*> left(w->tunnels.begin(), w->tunnels.end());
      for (auto* t : left) {
        t->close();
      }
      w->ioc.restart();
      w->ioc.poll();
    }
    workers_.clear();
  }

  error_code bind(const config::Listener& l, std::string* detail) {
    std::string address = l.address == "localhost" ? "127.0.0.1" : l.address;
    error_code ec;
    const auto ip = net::ip::make_address(address, ec);
    if (ec) {
      *detail = "passthrough listener: invalid address '" + address + "'";
      return ec;
    }
    std::uint16_t port = l.port;
    for (auto& w : workers_) {
      auto& a = w->acceptor;
      const tcp::endpoint ep(ip, port);
      a.open(ep.protocol(), ec);
      if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
      if (!ec) a.set_option(reuse_port(true), ec);
      if (!ec) a.bind(ep, ec);
      if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
      if (ec) {
        *detail = "passthrough listener: cannot listen on " + address + ":" +
                  std::to_string(port) + ": " + ec.message();
        return ec;
      }
      port = a.local_endpoint(ec).port();
    }
    port_ = port;
    return {};
  }

  void start() override {
    if (started_.exchange(true)) {
      return;
    }
    for (auto& w : workers_) {
      do_accept(w.get());
      w->thread = std::thread([w = w.get()] { run_worker(w); });
    }
  }

  void stop(std::chrono::milliseconds drain) override {
    if (stopped_.exchange(true)) {
      return;
    }
    for (auto& w : workers_) {
      net::post(w->ioc, [w = w.get(), drain] { begin_stop(w, drain); });
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

  std::uint16_t port() const override { return port_; }

  void update(const config::Passthrough& config) override { shared_->table.store(make_table(config)); }

  ProxyStats stats() const override {
    const auto& c = shared_->counters;
    ProxyStats s;
    s.accepted = c.accepted.load();
    s.routed = c.routed.load();
    s.defaulted = c.defaulted.load();
    s.no_backend = c.no_backend.load();
    s.malformed = c.malformed.load();
    s.hello_timeouts = c.hello_timeouts.load();
    s.over_limit = c.over_limit.load();
    s.backend_failures = c.backend_failures.load();
    s.idle_timeouts = c.idle_timeouts.load();
    s.active = c.active.load();
    return s;
  }

private:
  void do_accept(Worker* w) {
    w->acceptor.async_accept([this, w](error_code ec, tcp::socket socket) {
      on_accept(w, ec, std::move(socket));
    });
  }

  void on_accept(Worker* w, error_code ec, tcp::socket socket) {
    if (!w->acceptor.is_open() || w->stopping) {
      return;
    }
    if (ec) {
      core::log::warn("passthrough_accept_failed", {{"reason", ec.message()}});
      w->retry.expires_after(std::chrono::milliseconds(50));
      w->retry.async_wait([this, w](error_code e) {
        if (!e && w->acceptor.is_open()) {
          do_accept(w);
        }
      });
      return;
    }
    shared_->counters.accepted++;
    const auto table = shared_->table.load();
    if (shared_->counters.active.load() >= table->max_connections) {
      shared_->counters.over_limit++;
      core::log::warn("passthrough_connection_limit",
                      {{"max_connections", static_cast<unsigned long>(table->max_connections)}});
      error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<Tunnel>(std::move(socket), *w, shared_)->start();
    }
    do_accept(w);
  }

  static void run_worker(Worker* w) {
    for (;;) {
      try {
        w->ioc.run();
        return;
      } catch (const std::exception& e) {
        core::log::error("passthrough_worker_exception", {{"reason", e.what()}});
      }
    }
  }

  static void begin_stop(Worker* w, std::chrono::milliseconds drain) {
    w->stopping = true;
    error_code ignored;
    w->acceptor.close(ignored);
    w->retry.cancel();
    w->drain_deadline = Clock::now() + drain;
    w->drain_timer.emplace(w->ioc);
    drain_tick(w, {});
  }

  // Tunnels carry opaque TLS: there is no request boundary to wait for, only the deadline.
  static void drain_tick(Worker* w, error_code ec) {
    if (ec || w->tunnels.empty()) {
      return;
    }
    if (Clock::now() >= w->drain_deadline) {
      std::vector<Tunnel*> left(w->tunnels.begin(), w->tunnels.end());
      for (auto* t : left) {
        t->close();
      }
      return;
    }
    w->drain_timer->expires_after(std::chrono::milliseconds(10));
    w->drain_timer->async_wait([w](error_code e) { drain_tick(w, e); });
  }

  std::vector<std::unique_ptr<Worker>> workers_;
  std::shared_ptr<Shared> shared_;
  std::uint16_t port_ = 0;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::mutex wait_mu_;
};

}  // namespace

Result<std::unique_ptr<SniProxy>> SniProxy::create(const config::Passthrough& config,
                                                   std::uint32_t threads,
                                                   std::string* error_detail) {
  std::string detail;
  auto shared = std::make_shared<Shared>();
  shared->table.store(make_table(config));
  const std::size_t n = threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads;
  auto proxy = std::make_unique<SniProxyImpl>(n, std::move(shared));
  error_code ec;
  try {
    ec = proxy->bind(config.listener, &detail);
  } catch (const std::exception& e) {
    detail = std::string("passthrough listener: ") + e.what();
    ec = make_error_code(boost::system::errc::invalid_argument);
  }
  if (ec) {
    core::log::error("passthrough_listener_failed", {{"reason", detail}});
    if (error_detail != nullptr) {
      *error_detail = detail;
    }
    return ec;
  }
  return std::unique_ptr<SniProxy>(std::move(proxy));
}

}  // namespace fapigate::passthrough
