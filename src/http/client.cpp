// Outbound HTTP/1.1 on Beast: a keep-alive pool per origin, plain or TLS (tls/ client context,
// SNI + hostname check), one deadline per request, bounded response size. An exchange runs on
// the client's own io_context thread(s), or, in caller-worker mode, on the io_context of the
// server worker that called send() (with that worker's own pool), so that a proxied request
// and its answer never leave the worker's thread.
#include "http/client.hpp"

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <future>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "http/drain_watch.hpp"
#include "http/session.hpp"
#include "tls/client_context.hpp"

namespace fapigate::http {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// A plain upstream connection and the state of its drain watch (http/drain_watch.hpp), which
// goes with the connection into the pool and out again. Watches run only on a server worker
// (one thread per io_context). Shared so that a watch cancelled after the stream is gone can
// tell (its weak reference) instead of writing to freed memory.
struct PlainStream : beast::tcp_stream {
  using beast::tcp_stream::tcp_stream;
  std::shared_ptr<detail::DrainWatch> drain_watch;  // made at the first watch
};
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxUrl = 8192;
constexpr std::uint32_t kMaxResponseHeader = 64 * 1024;
constexpr std::chrono::seconds kMaxIdleAge{30};

//----------------------------------------------------------------------------------------------
// URL: a small bounded parser for http(s)://host[:port][/path][?query]; no userinfo.

struct Url {
  bool https = false;
  std::string host;         // without brackets
  std::string port;
  std::string target;       // path + query, at least "/"
  std::string host_header;  // as sent in Host
  std::string origin;       // pool key
};

std::optional<Url> parse_url(std::string_view u) {
  if (u.empty() || u.size() > kMaxUrl) {
    return std::nullopt;
  }
  for (const unsigned char c : u) {
    if (c <= 0x20 || c >= 0x7f) {
      return std::nullopt;
    }
  }
  const auto sep = u.find("://");
  if (sep == std::string_view::npos) {
    return std::nullopt;
  }
  Url url;
  const auto scheme = u.substr(0, sep);
  if (core::iequals(scheme, "https")) {
    url.https = true;
  } else if (!core::iequals(scheme, "http")) {
    return std::nullopt;
  }
  auto rest = u.substr(sep + 3);
  const auto end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, end);
  std::string_view path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  path = path.substr(0, path.find('#'));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view host;
  std::string_view port;
  bool ipv6 = false;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    ipv6 = true;
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return std::nullopt;
      }
      port = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty() || host.size() > 253) {
    return std::nullopt;
  }
  const std::string_view default_port = url.https ? "443" : "80";
  if (port.empty()) {
    port = default_port;
  }
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  const int port_value = std::stoi(std::string(port));  // digits only, at most 5
  if (port_value < 1 || port_value > 65535) {
    return std::nullopt;
  }
  url.host = std::string(host);
  url.port = std::to_string(port_value);
  url.target = path.empty() || path.front() == '?' ? "/" + std::string(path) : std::string(path);
  url.host_header = ipv6 ? "[" + url.host + "]" : url.host;
  if (url.port != default_port) {
    url.host_header += ":" + url.port;
  }
  url.origin = std::string(url.https ? "https://" : "http://") + url.host_header;
  return url;
}

// RFC 9110 §5.6.2 tchar, as a table: this runs over every header name of every request.
constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) {
    t[c] = true;
  }
  for (int c = 'a'; c <= 'z'; ++c) {
    t[c] = true;
  }
  for (int c = 'A'; c <= 'Z'; ++c) {
    t[c] = true;
  }
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) {
    t[static_cast<unsigned char>(c)] = true;
  }
  return t;
}();

bool valid_token(std::string_view s) {
  if (s.empty() || s.size() > 256) {
    return false;
  }
  for (const unsigned char c : s) {
    if (!kTchar[c]) {
      return false;
    }
  }
  return true;
}

// No CR, LF or NUL in a field value (no request splitting). Three memchr scans: values can be
// long (an RFC 9440 Client-Cert is ~1.5 kB) and this runs on every proxied request.
bool valid_field_value(std::string_view v) {
  return v.find('\r') == std::string_view::npos && v.find('\n') == std::string_view::npos &&
         v.find('\0') == std::string_view::npos;
}

bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

// An idle pooled connection is reusable only if the peer has neither closed it nor sent
// anything (a close_notify, a stray response) since.
bool idle_socket_usable(tcp::socket& s) {
  if (!s.is_open()) {
    return false;
  }
  char byte = 0;
  const auto n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// The same, answered without a system call when a drain watch has been queued since the
// response's last read emptied the socket: no byte, FIN or error has arrived since.
bool idle_usable(PlainStream& s) {
  if (s.drain_watch && s.drain_watch->watching()) {
    return s.socket().is_open();
  }
  return idle_socket_usable(s.socket());
}
bool idle_usable(TlsStream& s) { return idle_socket_usable(beast::get_lowest_layer(s).socket()); }

//----------------------------------------------------------------------------------------------
// Pool of idle keep-alive connections per origin.

template <class Stream>
class Pool {
public:
  explicit Pool(std::size_t max_per_origin) : max_(max_per_origin) {}

  std::unique_ptr<Stream> take(const std::string& origin) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(origin);
    if (it == idle_.end()) {
      return nullptr;
    }
    auto& list = it->second;
    while (!list.empty()) {
      Entry e = std::move(list.back());
      list.pop_back();
      if (Clock::now() - e.since < kMaxIdleAge && idle_usable(*e.stream)) {
        return std::move(e.stream);
      }
    }
    idle_.erase(it);
    return nullptr;
  }

  void put(const std::string& origin, std::unique_ptr<Stream> stream) {
    std::lock_guard lock(mu_);
    if (closed_) {
      return;
    }
    auto& list = idle_[origin];
    if (list.size() >= max_) {
      list.pop_front();
    }
    list.push_back(Entry{std::move(stream), Clock::now()});
  }

  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    idle_.clear();
  }

private:
  struct Entry {
    std::unique_ptr<Stream> stream;
    Clock::time_point since;
  };
  std::mutex mu_;
  bool closed_ = false;
  std::size_t max_;
  std::unordered_map<std::string, std::deque<Entry>> idle_;
};

class ExchangeBase {
public:
  virtual ~ExchangeBase() = default;
  virtual void abort() = 0;
};

// Exchanges in flight, for aborting them all (client destroyed, worker stopping). Intrusive:
// an exchange carries one Entry per set it joins (two: its client's and its worker's), so
// joining and leaving allocate nothing; there is one exchange per proxied request.
class LiveSet {
public:
  struct Entry {
    std::weak_ptr<ExchangeBase> exchange;
    Entry* prev = nullptr;
    Entry* next = nullptr;
    LiveSet* set = nullptr;  // the set it is linked into; read and written under that set's lock
  };

  // false once closed: the exchange fails at once.
  bool add(Entry& e, std::weak_ptr<ExchangeBase> w) {
    std::lock_guard lock(mu_);
    if (closed_) {
      return false;
    }
    e.exchange = std::move(w);
    e.set = this;
    e.prev = nullptr;
    e.next = head_;
    if (head_ != nullptr) {
      head_->prev = &e;
    }
    head_ = &e;
    return true;
  }
  void remove(Entry& e) {
    std::lock_guard lock(mu_);
    if (e.set != this) {
      return;  // never joined (the set was closed)
    }
    (e.prev != nullptr ? e.prev->next : head_) = e.next;
    if (e.next != nullptr) {
      e.next->prev = e.prev;
    }
    e.prev = e.next = nullptr;
    e.set = nullptr;
  }
  // Every exchange still running fails with operation_aborted; with close, later ones too.
  void abort_all(bool close) {
    std::vector<std::shared_ptr<ExchangeBase>> running;
    {
      std::lock_guard lock(mu_);
      closed_ = closed_ || close;
      for (Entry* e = head_; e != nullptr; e = e->next) {
        if (auto x = e->exchange.lock()) {  // null while its destructor waits to leave
          running.push_back(std::move(x));
        }
      }
    }
    for (auto& e : running) {
      e->abort();
    }
  }

private:
  std::mutex mu_;
  bool closed_ = false;
  Entry* head_ = nullptr;
};

// Caller-worker mode, the worker's side: an Asio service of the worker's io_context, so it goes
// with it (the pooled sockets belong to that io_context, and must not outlive it). Holds each
// client's idle connections made on this worker and the exchanges running here. Pools are used
// only on the worker's own thread; the live set is also reached from a destroyed client.
class WorkerOutbound final : public net::execution_context::service {
public:
  using key_type = WorkerOutbound;
  static inline net::execution_context::id id;

  struct Pools {
    explicit Pools(std::size_t max) : plain(max), tls(max) {}
    Pool<PlainStream> plain;
    Pool<TlsStream> tls;
    Pool<PlainStream>& of(PlainStream*) { return plain; }
    Pool<TlsStream>& of(TlsStream*) { return tls; }
  };

  explicit WorkerOutbound(net::execution_context& ctx) : service(ctx) {}

  // Clients are told apart by a never-reused id (a destroyed client's address may be reused).
  Pools& pools(std::uint64_t client, std::size_t max_per_origin) {
    auto it = pools_.find(client);
    if (it == pools_.end()) {
      it = pools_.emplace(client, std::make_unique<Pools>(max_per_origin)).first;
    }
    return *it->second;
  }
  LiveSet& live() { return live_; }

private:
  void shutdown() override {
    live_.abort_all(true);
    for (auto& [id, p] : pools_) {
      p->plain.close();
      p->tls.close();
    }
    pools_.clear();
  }

  std::unordered_map<std::uint64_t, std::unique_ptr<Pools>> pools_;
  LiveSet live_;
};

// Shared by the client facade, its worker threads and every exchange in flight.
struct Core {
  explicit Core(const ClientOptions& o)
      : options(o), plain_pool(o.max_idle_per_origin), tls_pool(o.max_idle_per_origin) {}

  static inline std::atomic<std::uint64_t> next_id{1};
  const std::uint64_t id = next_id++;
  ClientOptions options;
  std::unique_ptr<net::ssl::context> ssl;  // null when TLS material failed to load lazily
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work{ioc.get_executor()};
  Pool<PlainStream> plain_pool;
  Pool<TlsStream> tls_pool;

  LiveSet live;  // on every thread and worker

  Pool<PlainStream>& pool(PlainStream*) { return plain_pool; }
  Pool<TlsStream>& pool(TlsStream*) { return tls_pool; }

  // Stops everything: exchanges in flight fail with operation_aborted (those on a server worker
  // too, by a post to it), idle connections of the client's own pool close. Idle connections
  // this client left in a worker's pool close with that worker's io_context.
  void shutdown() {
    live.abort_all(true);
    plain_pool.close();
    tls_pool.close();
    work.reset();
  }
};

using Done = std::function<void(Result<Response>)>;

//----------------------------------------------------------------------------------------------
// One request/response: resolve, connect, (handshake), write, read; one deadline. On a strand of
// the client's own io_context, or on the calling worker's io_context (one thread: no strand).

template <class Stream>
class Exchange final : public ExchangeBase,
                       public std::enable_shared_from_this<Exchange<Stream>> {
public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // worker: the caller's worker (caller-worker mode) or null (the client's own threads).
  Exchange(std::shared_ptr<Core> core, Url url, ClientRequest request, Done done,
           std::unique_ptr<Stream> pooled, net::io_context* worker_ioc, WorkerOutbound* worker)
      : core_(std::move(core)),
        worker_(worker),
        url_(std::move(url)),
        timeout_(request.timeout),
        connect_timeout_(request.connect_timeout),
        method_(std::move(request.method)),
        done_(std::move(done)),
        stream_(std::move(pooled)),
        ex_(stream_         ? stream_->get_executor()
            : worker_ioc    ? net::any_io_executor(worker_ioc->get_executor())
                            : net::any_io_executor(net::make_strand(core_->ioc))),
        timer_(ex_),
        reused_(stream_ != nullptr) {
    build_request(request);
  }

  ~Exchange() override {
    core_->live.remove(in_client_);
    if (worker_) {
      worker_->live().remove(in_worker_);
    }
  }

  void start() {
    if (!core_->live.add(in_client_, this->weak_from_this()) ||
        (worker_ && !worker_->live().add(in_worker_, this->weak_from_this()))) {
      // Never from inside send(): the caller may hold a lock its callback takes.
      net::post(ex_, [self = this->shared_from_this()] {
        self->finish(ErrorCode(net::error::operation_aborted));
      });
      return;
    }
    net::dispatch(ex_, beast::bind_front_handler(&Exchange::begin, this->shared_from_this()));
  }

  void abort() override {
    net::dispatch(ex_, beast::bind_front_handler(&Exchange::on_abort, this->shared_from_this()));
  }

private:
  // The request as sent, in one buffer: cheaper than Beast's serializer on the proxy's hot path.
  // Safe to concatenate: send() checked the method and header names are tokens, the values
  // free of CR/LF/NUL, and parse_url the target. Framing is ours (Content-Length, keep-alive
  // by HTTP/1.1 default), as Beast's prepare_payload() would set it.
  void build_request(const ClientRequest& request) {
    head_ = method_ == "HEAD";
    const std::string& body = request.body;
    std::size_t size = method_.size() + url_.target.size() + url_.host_header.size() +
                       body.size() + 64;
    for (const auto& f : request.headers) {
      size += f.name.size() + f.value.size() + 4;
    }
    wire_.reserve(size);
    wire_.append(method_).append(1, ' ').append(url_.target).append(" HTTP/1.1\r\nHost: ");
    wire_.append(url_.host_header).append("\r\n");
    for (const auto& f : request.headers) {
      if (core::iequals(f.name, "host") || core::iequals(f.name, "content-length") ||
          core::iequals(f.name, "transfer-encoding") || core::iequals(f.name, "connection")) {
        continue;
      }
      wire_.append(f.name).append(": ").append(f.value).append("\r\n");
    }
    if (!body.empty() || method_ == "POST" || method_ == "PUT" || method_ == "PATCH") {
      wire_.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    wire_.append("\r\n").append(body);
  }

  beast::tcp_stream& tcp() { return beast::get_lowest_layer(*stream_); }

  // A read of the response came back shorter than asked: the socket's receive queue is empty,
  // the moment a drain watch may start. Plain connections on a worker only (the TLS stream
  // reads ahead into its own buffer, and the client's own io_context has several threads).
  void on_drained() {
    if constexpr (!kTls) {
      if (worker_ != nullptr && stream_) {
        auto& watch = stream_->drain_watch;
        if (!watch) {
          watch = std::make_shared<detail::DrainWatch>();
        }
        watch->start(tcp().socket(), watch);
      }
    }
  }

  // The response's read buffer as Beast uses it: prepare() before each read, commit() with what
  // the read returned.
  class ReadBuffer : public beast::flat_buffer {
  public:
    explicit ReadBuffer(Exchange& exchange) : exchange_(exchange) {}
    mutable_buffers_type prepare(std::size_t n) {
      asked_ = n;
      return beast::flat_buffer::prepare(n);
    }
    void commit(std::size_t n) {
      beast::flat_buffer::commit(n);
      if (n > 0 && n < asked_) {
        exchange_.on_drained();
      }
      asked_ = 0;
    }

  private:
    Exchange& exchange_;
    std::size_t asked_ = 0;
  };

  void begin() {
    timer_.expires_after(timeout_);
    timer_.async_wait(beast::bind_front_handler(&Exchange::on_deadline, this->shared_from_this()));
    if (stream_) {
      do_write();
    } else {
      do_resolve();
    }
  }

  void on_deadline(beast::error_code ec) {
    if (ec || finished_) {
      return;
    }
    timed_out_ = true;
    cancel_io();
  }

  void on_abort() {
    if (finished_) {
      return;
    }
    aborted_ = true;
    cancel_io();
  }

  void cancel_io() {
    if (resolver_) {
      resolver_->cancel();
    }
    if (stream_) {
      beast::error_code ignored;
      tcp().socket().close(ignored);
    }
  }

  void do_resolve() {
    if (!resolver_) {
      resolver_.emplace(ex_);  // only for a new connection
    }
    if (connect_timeout_.count() > 0 && connect_timeout_ < timeout_) {
      if (!connect_timer_) {
        connect_timer_.emplace(ex_);
      }
      connect_timer_->expires_after(connect_timeout_);
      connect_timer_->async_wait(
          beast::bind_front_handler(&Exchange::on_connect_deadline, this->shared_from_this()));
    }
    resolver_->async_resolve(url_.host, url_.port,
                            beast::bind_front_handler(&Exchange::on_resolve,
                                                      this->shared_from_this()));
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) {
      return finish(ec);
    }
    if constexpr (kTls) {
      stream_ = std::make_unique<Stream>(ex_, *core_->ssl);
    } else {
      stream_ = std::make_unique<Stream>(ex_);
    }
    tcp().async_connect(results, beast::bind_front_handler(&Exchange::on_connect,
                                                           this->shared_from_this()));
  }

  void on_connect(beast::error_code ec, const tcp::endpoint&) {
    if (ec) {
      return finish(ec);
    }
    beast::error_code ignored;
    tcp().socket().set_option(tcp::no_delay(true), ignored);  // requests are written whole
    if constexpr (kTls) {
      if (!tls::prepare_client_ssl(stream_->native_handle(), url_.host)) {
        return finish(make_error_code(boost::system::errc::invalid_argument));
      }
      stream_->async_handshake(net::ssl::stream_base::client,
                               beast::bind_front_handler(&Exchange::on_handshake,
                                                         this->shared_from_this()));
    } else {
      connected();
      do_write();
    }
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      return finish(ec);
    }
    connected();
    do_write();
  }

  // The new connection is ready for the request: the connect bound no longer applies.
  void connected() {
    if (connect_timer_) {
      connect_timer_->cancel();
    }
  }

  void on_connect_deadline(beast::error_code ec) {
    if (ec || finished_ || !stream_pending_connect()) {
      return;
    }
    connect_timed_out_ = true;
    cancel_io();
  }

  // Still resolving, connecting or handshaking (the write has not started).
  bool stream_pending_connect() const { return !writing_; }

  void do_write() {
    writing_ = true;
    std::size_t sent = 0;
    if constexpr (!kTls) {
      // Written here when the socket takes the request at once (a few KiB into a keep-alive
      // connection nearly always goes whole), so the read starts without the trip through the
      // io_context's queue that Asio's own immediate write completion takes (with few
      // connections, one more epoll poll per request). A partial write, a full socket buffer
      // or an error goes on the asynchronous way, which reports it from the event loop.
      auto& socket = tcp().socket();
      beast::error_code ec;
      if (!socket.non_blocking()) {
        socket.non_blocking(true, ec);
      }
      if (!ec) {
        const std::size_t n = socket.send(net::buffer(wire_), 0, ec);
        if (!ec && n == wire_.size()) {
          return on_write({}, n);
        }
        sent = ec ? 0 : n;
      }
    }
    net::async_write(*stream_, net::buffer(wire_) + sent,
                     beast::bind_front_handler(&Exchange::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) {
      return retry_or_finish(ec);
    }
    parser_.reset();
    field_arena_.release();  // nothing allocated from it is alive any more
    parser_.emplace(std::piecewise_construct, std::make_tuple(),
                    std::make_tuple(FieldAllocator(&field_arena_)));
    parser_->header_limit(kMaxResponseHeader);
    parser_->body_limit(static_cast<std::uint64_t>(core_->options.max_response_bytes));
    if (head_) {
      parser_->skip(true);
    }
    bhttp::async_read(*stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Exchange::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      return retry_or_finish(ec);
    }
    auto res = parser_->release();
    Response response;
    response.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      response.headers.add(std::string(f.name_string()), std::string(f.value()));
    }
    response.body = std::move(res.body());
    if (res.keep_alive() && buffer_.size() == 0 && !timed_out_ && !aborted_) {
      if (worker_) {
        worker_->pools(core_->id, core_->options.max_idle_per_origin)
            .of(static_cast<Stream*>(nullptr))
            .put(url_.origin, std::move(stream_));
      } else {
        core_->pool(static_cast<Stream*>(nullptr)).put(url_.origin, std::move(stream_));
      }
    }
    finish(std::move(response));
  }

  // A reused connection may have been closed by the server just as we sent: RFC 9110 §9.2.2
  // allows one automatic retry of an idempotent request on a fresh connection.
  void retry_or_finish(beast::error_code ec) {
    const bool nothing_received = !parser_ || !parser_->got_some();
    if (reused_ && !retried_ && !timed_out_ && !aborted_ && nothing_received &&
        idempotent(method_)) {
      retried_ = true;
      reused_ = false;
      writing_ = false;
      stream_.reset();
      parser_.reset();
      buffer_.consume(buffer_.size());
      return do_resolve();
    }
    finish(ec);
  }

  void finish(Result<Response> result) {
    if (finished_) {
      return;
    }
    finished_ = true;
    timer_.cancel();
    if (connect_timer_) {
      connect_timer_->cancel();
    }
    if (result.has_error()) {
      if (connect_timed_out_) {
        result = Result<Response>(boost::system::in_place_error,
                                  make_error_code(ClientErrc::ConnectTimeout));
      } else if (timed_out_) {
        result = Result<Response>(boost::system::in_place_error,
                                  make_error_code(boost::system::errc::timed_out));
      } else if (aborted_) {
        result = Result<Response>(boost::system::in_place_error, net::error::operation_aborted);
      }
      stream_.reset();
    }
    try {
      done_(std::move(result));
    } catch (const std::exception& e) {
      core::log::error("http_client_callback_exception", {{"reason", e.what()}});
    } catch (...) {
      core::log::error("http_client_callback_exception", {});
    }
    done_ = nullptr;
  }

  std::shared_ptr<Core> core_;
  WorkerOutbound* worker_;  // outlives the exchange: pending handlers go with the io_context
  Url url_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds connect_timeout_;
  std::string method_;
  Done done_;
  std::unique_ptr<Stream> stream_;
  net::any_io_executor ex_;
  net::steady_timer timer_;
  std::optional<net::steady_timer> connect_timer_;  // only for a new connection
  std::optional<tcp::resolver> resolver_;
  std::string wire_;  // the serialized request (kept for the one retry)
  bool head_ = false;
  ReadBuffer buffer_{*this};
  LiveSet::Entry in_client_;  // core_->live
  LiveSet::Entry in_worker_;  // worker_->live()
  // The response's header fields are allocated from a buffer inside the exchange instead of
  // one heap block per field; a larger head (bounded by kMaxResponseHeader) spills to the heap
  // until the exchange ends. Declared before the parser, so it outlives the fields.
  using FieldAllocator = std::pmr::polymorphic_allocator<char>;
  std::array<std::byte, 1024> field_buffer_;
  std::pmr::monotonic_buffer_resource field_arena_{field_buffer_.data(), field_buffer_.size()};
  std::optional<bhttp::response_parser<bhttp::string_body, FieldAllocator>> parser_;
  bool reused_ = false;
  bool retried_ = false;
  bool timed_out_ = false;
  bool connect_timed_out_ = false;
  bool writing_ = false;  // the request is (being) written: past the connect bound
  bool aborted_ = false;
  bool finished_ = false;
};

//----------------------------------------------------------------------------------------------
// The facade handed out by make_client: owns the worker threads.

class BeastClient final : public Client {
public:
  explicit BeastClient(std::shared_ptr<Core> core) : core_(std::move(core)) {}

  void run(std::uint32_t threads) {
    for (std::uint32_t i = 0; i < std::max<std::uint32_t>(threads, 1); ++i) {
      // Each thread holds the core, so it is released off the worker even if the facade is
      // destroyed from inside a callback.
      threads_.emplace_back([core = core_] { run_core(*core); });
    }
  }

  ~BeastClient() override {
    core_->shutdown();
    for (auto& t : threads_) {
      if (t.get_id() == std::this_thread::get_id()) {
        t.detach();  // destroyed from a callback on this very thread
      } else if (t.joinable()) {
        t.join();
      }
    }
  }

  void send(ClientRequest request, std::function<void(Result<Response>)> done) override {
    // Caller-worker mode: on a server worker, the exchange, its pool and its callback stay on
    // that worker's io_context. Anywhere else (CLI, tests, the main thread): the own threads.
    net::io_context* worker_ioc =
        core_->options.use_caller_worker ? detail::current_worker_context() : nullptr;
    auto url = parse_url(request.url);
    if (!url || !valid_token(request.method) || !headers_valid(request.headers)) {
      return fail_soon(make_error_code(boost::system::errc::invalid_argument), std::move(done),
                       worker_ioc);
    }
    if (url->https && !core_->ssl) {
      return fail_soon(make_error_code(boost::system::errc::not_supported), std::move(done),
                       worker_ioc);
    }
    try {
      if (url->https) {
        start_exchange<TlsStream>(std::move(*url), std::move(request), std::move(done),
                                  worker_ioc);
      } else {
        start_exchange<PlainStream>(std::move(*url), std::move(request), std::move(done),
                                          worker_ioc);
      }
    } catch (const std::exception& e) {
      core::log::error("http_client_send_failed", {{"reason", e.what()}});
    }
  }

private:
  template <class Stream>
  void start_exchange(Url url, ClientRequest request, Done done, net::io_context* worker_ioc) {
    WorkerOutbound* worker = nullptr;
    std::unique_ptr<Stream> pooled;
    if (worker_ioc) {
      worker = &net::use_service<WorkerOutbound>(*worker_ioc);
      pooled = worker->pools(core_->id, core_->options.max_idle_per_origin)
                   .of(static_cast<Stream*>(nullptr))
                   .take(url.origin);
    } else {
      pooled = core_->pool(static_cast<Stream*>(nullptr)).take(url.origin);
    }
    std::make_shared<Exchange<Stream>>(core_, std::move(url), std::move(request), std::move(done),
                                       std::move(pooled), worker_ioc, worker)
        ->start();
  }

  static bool headers_valid(const Headers& headers) {
    for (const auto& f : headers) {
      if (!valid_token(f.name) || !valid_field_value(f.value)) {
        return false;
      }
    }
    return true;
  }

  // Callbacks never run inside send(): on the caller's worker in caller-worker mode, else on a
  // client thread.
  void fail_soon(ErrorCode ec, Done done, net::io_context* worker_ioc) {
    auto call = [ec, done = std::move(done)] {
      try {
        done(Result<Response>(boost::system::in_place_error, ec));
      } catch (...) {
        core::log::error("http_client_callback_exception", {});
      }
    };
    if (worker_ioc) {
      net::post(*worker_ioc, std::move(call));
    } else {
      net::post(core_->ioc, std::move(call));
    }
  }

  static void run_core(Core& core) {
    for (;;) {
      try {
        core.ioc.run();
        return;
      } catch (const std::exception& e) {
        core::log::error("http_client_worker_exception", {{"reason", e.what()}});
      }
    }
  }

  std::shared_ptr<Core> core_;
  std::vector<std::thread> threads_;
};

}  // namespace

namespace detail {

void abort_outbound_exchanges(net::io_context& ioc) {
  if (net::has_service<WorkerOutbound>(ioc)) {
    net::use_service<WorkerOutbound>(ioc).live().abort_all(false);
  }
}

}  // namespace detail

Result<std::shared_ptr<Client>> make_client(const ClientOptions& options) {
  auto core = std::make_shared<Core>(options);
  tls::ClientTlsOptions tls_options;
  tls_options.ca_file = options.ca_file;
  tls_options.cert_file = options.client_cert_file;
  tls_options.key_file = options.client_key_file;
  auto ctx = tls::make_client_context(tls_options);
  if (!ctx) {
    return ctx.error();
  }
  SSL_CTX_up_ref(ctx->native_handle());
  core->ssl = std::make_unique<net::ssl::context>(ctx->native_handle());
  auto client = std::make_shared<BeastClient>(core);
  client->run(options.threads);
  return std::shared_ptr<Client>(std::move(client));
}

Result<Response> send_sync(const ClientOptions& options, ClientRequest request) {
  auto client = make_client(options);
  if (!client) {
    return client.error();
  }
  std::promise<Result<Response>> promise;
  auto future = promise.get_future();
  (*client)->send(std::move(request),
                  [&promise](Result<Response> r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace fapigate::http
