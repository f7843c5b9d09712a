// Internal to session_plain.cpp / session_tls.cpp: the Session<Stream> template (STYLE.md §6,
// after Beast's advanced_server_flex), explicitly instantiated once per stream type.
#pragma once

#include <array>
#include <chrono>
#include <climits>
#include <exception>
#include <iterator>
#include <optional>
#include <type_traits>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/log.hpp"
#include "core/strings.hpp"
#include "http/request_head.hpp"
#include "http/session.hpp"

namespace fapigate::http::detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// Header names are RFC 9110 tokens; values carry no CR, LF or NUL (no response splitting).
bool valid_header_field(std::string_view name, std::string_view value);

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Session(Stream stream, std::string remote, std::shared_ptr<const ListenerShared> listener,
          WorkerLink link)
      : stream_(std::move(stream)),
        remote_(std::move(remote)),
        listener_(std::move(listener)),
        link_(std::move(link)) {}

  ~Session() override { link_.registry->remove(this); }

  void run() {
    if (!link_.registry->add(this, this->weak_from_this())) {
      return;  // the server is stopping: the socket closes with this session
    }
    if constexpr (kTls) {
      do_handshake();
    } else {
      do_read_next();
    }
  }

  void server_stopping() override {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::on_server_stopping,
                                            this->shared_from_this()));
  }

  void force_close() override {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::close_now, this->shared_from_this()));
  }

  void close_now() override {
    auto keep = std::move(self_);  // released at the end of this call, not during it
    state_ = State::Closing;
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().close(ec);
  }

  void deliver(Response response, bool close) override {
    net::dispatch(stream_.get_executor(),
                  [self = this->shared_from_this(), r = std::move(response), close]() mutable {
                    self->on_response(std::move(r), close);
                  });
  }

private:
  enum class State { Handshake, Idle, Reading, Handling, Writing, Closing };

  const config::Limits& limits() const { return listener_->limits; }
  // beast::tcp_stream, or TlsServerStream (its own lowest layer, with the same timeouts).
  auto& tcp() { return beast::get_lowest_layer(stream_); }
  static std::chrono::milliseconds ms(std::uint32_t v) { return std::chrono::milliseconds(v); }

  void on_server_stopping() {
    stopping_ = true;
    if (state_ == State::Handshake || state_ == State::Idle) {
      close_now();
    }
  }

  //--------------------------------------------------------------------------------------------
  // TLS handshake

  void do_handshake() {
    state_ = State::Handshake;
    tcp().expires_after(ms(limits().handshake_timeout_ms));
    if constexpr (kTls) {
      stream_.async_handshake(net::ssl::stream_base::server,
                              beast::bind_front_handler(&Session::on_handshake,
                                                        this->shared_from_this()));
    }
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      if (stopping_ || ec == net::error::operation_aborted) {
        return;
      }
      listener_->counters->tls_handshake_failures++;
      core::log::warn("tls_handshake_failed", {{"listener", listener_->name},
                                               {"remote", remote_},
                                               {"reason", ec.message()}});
      return;
    }
    if constexpr (kTls) {
      // Computed once per connection: every request on it carries the same view.
      peer_ = tls_peer_certificate();
      sni_ = tls_server_name();
    }
    do_read_next();
  }

  // Defined in session_tls.cpp (tls/ stays out of the plain TU).
  std::shared_ptr<const PeerCertificate> tls_peer_certificate();
  std::string tls_server_name();

  //--------------------------------------------------------------------------------------------
  // Reading a request: wait for its first byte (idle timeout between keep-alive requests), then
  // read the whole message under the read timeout, with a fresh parser and the configured limits.

  void do_read_next() {
    parser_.emplace();
    apply_limits(*parser_, limits());
    if (buffer_.size() > 0) {
      do_read();  // a pipelined request is already buffered
    } else {
      do_wait();
    }
  }

  void do_wait() {
    if (stopping_) {
      return do_close();  // the stop came while this response was being written
    }
    state_ = State::Idle;
    tcp().expires_after(ms(served_ == 0 ? limits().read_timeout_ms : limits().idle_timeout_ms));
    if constexpr (kTls) {
      // An idle keep-alive connection holds no read buffer: it waits for readiness and gets a
      // buffer when bytes arrive (thousands of idle connections at a gateway; docs/BENCHMARKS.md).
      if (buffer_.size() == 0) {
        buffer_.shrink_to_fit();
      }
      stream_.async_wait_readable(
          beast::bind_front_handler(&Session::on_wait, this->shared_from_this()));
    } else {
      stream_.async_read_some(buffer_.prepare(kReadChunk),
                              beast::bind_front_handler(&Session::on_wait,
                                                        this->shared_from_this()));
    }
  }

  void on_wait(beast::error_code ec, std::size_t n) {
    buffer_.commit(n);
    if (ec) {
      // eof / close without close_notify between requests, idle timeout, or stop: not errors.
      if (ec == beast::error::timeout) {
        core::log::debug("http_idle_timeout", {{"listener", listener_->name}, {"remote", remote_}});
      }
      return;
    }
    do_read();
  }

  void do_read() {
    state_ = State::Reading;
    tcp().expires_after(ms(limits().read_timeout_ms));
    if constexpr (kTls) {
      buffer_.reserve(kReadChunk);  // one SSL_read takes a whole request, usually
    }
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == bhttp::error::end_of_stream) {
      return do_close();
    }
    if (ec == beast::error::timeout) {
      core::log::warn("http_read_timeout", {{"listener", listener_->name}, {"remote", remote_}});
      return;  // tcp_stream has closed the socket
    }
    if (auto refusal = refusal_for_read_error(ec)) {
      return refuse(refusal->status, refusal->description, ec);
    }
    if (ec) {
      core::log::debug("http_read_failed", {{"listener", listener_->name},
                                            {"remote", remote_},
                                            {"reason", ec.message()}});
      return;
    }
    // request_head.hpp: the same checks tests/http/http_request_head_fuzz.cpp fuzzes.
    if (auto refusal = check_request_head(parser_->get(), limits())) {
      return refuse(refusal->status, refusal->description, ec);
    }
    dispatch_request();
  }

  //--------------------------------------------------------------------------------------------
  // Handing the request to the application; its Responder may run later, on any thread.

  void dispatch_request() {
    state_ = State::Handling;
    ++served_;
    listener_->counters->requests++;
    self_ = this->shared_from_this();  // alive while the handler works, even with no I/O pending
    auto state = std::make_shared<ResponderState>(link_, this->weak_from_this(),
                                                  listener_->counters);
    try {
      auto req = parser_->release();
      parser_.reset();
      request_keep_alive_ = req.keep_alive();
      request_version_ = req.version();
      head_ = req.method() == bhttp::verb::head;
      Request request = to_request(std::move(req));
      request.remote_address = remote_;
      request.local_port = listener_->port;
      request.tls = kTls;
      request.sni = sni_;
      request.peer_certificate = peer_;
      if (!listener_->handler) {
        state->respond(error_response(500, "server_error", "no handler"), true);
        return;
      }
      listener_->handler->handle(std::move(request),
                                 [state](Response r) { state->respond(std::move(r), false); });
    } catch (const std::exception& e) {
      listener_->counters->handler_errors++;
      core::log::error("http_handler_exception",
                       {{"listener", listener_->name}, {"reason", e.what()}});
      state->respond(error_response(500, "server_error", "internal error"), true);
    } catch (...) {
      listener_->counters->handler_errors++;
      core::log::error("http_handler_exception", {{"listener", listener_->name}});
      state->respond(error_response(500, "server_error", "internal error"), true);
    }
  }

  void on_response(Response response, bool close) {
    if (state_ != State::Handling) {
      return;  // the connection was closed while the handler worked
    }
    auto keep = std::move(self_);
    const bool keep_alive = request_keep_alive_ && !close && !stopping_ &&
                            served_ < limits().max_requests_per_connection;
    bool persist = keep_alive;
    try {
      persist = build_response(std::move(response), keep_alive);
    } catch (const std::exception& e) {
      core::log::error("http_response_invalid",
                       {{"listener", listener_->name}, {"reason", e.what()}});
      persist = build_response(error_response(500, "server_error", "internal error"), false);
    }
    do_write(persist);
  }

  // Serializes the head into head_out_ and keeps the body in body_out_ (written as two buffers,
  // no copy of the body): cheaper than Beast's serializer on every response. Names and values
  // were checked by valid_header_field; framing (Content-Length, Connection) is ours.
  // Returns whether the connection stays open.
  bool build_response(Response response, bool keep_alive) {
    int status = response.status;
    if (status < 200 || status > 599) {
      core::log::error("http_response_invalid",
                       {{"listener", listener_->name}, {"status", status}});
      response = error_response(500, "server_error", "internal error");
      status = 500;
      keep_alive = false;
    }
    head_out_.clear();
    body_out_.clear();
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    head_out_.append(request_version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    head_out_.append(std::to_string(status)).append(1, ' ');
    head_out_.append(reason.data(), reason.size()).append("\r\n");
    bool has_date = false;
    for (const auto& f : response.headers) {
      has_date = has_date || core::iequals(f.name, "date");
      if (core::iequals(f.name, "content-length") || core::iequals(f.name, "transfer-encoding") ||
          core::iequals(f.name, "connection")) {
        continue;  // framing is the server's business
      }
      if (!valid_header_field(f.name, f.value)) {
        core::log::error("http_response_header_dropped",
                         {{"listener", listener_->name}, {"name", f.name.substr(0, 64)}});
        continue;
      }
      head_out_.append(f.name).append(": ").append(f.value).append("\r\n");
    }
    // RFC 9110 §6.6.1: an origin server with a clock sends Date on every response (FAPI 1.0
    // Part 1 §6.2.1-10 asks it of resource servers); a proxied upstream's own Date is kept.
    if (!has_date) {
      if (const std::string& date = http_date_now(); !date.empty()) {
        head_out_.append("Date: ").append(date).append("\r\n");
      }
    }
    const bool no_body = status == 204 || status == 304;
    if (no_body) {
      response.body.clear();
    }
    if (!no_body) {
      head_out_.append("Content-Length: ").append(std::to_string(response.body.size()));
      head_out_.append("\r\n");
    }
    // RFC 9112 §9.3: HTTP/1.1 persists unless told otherwise, HTTP/1.0 only when told so.
    if (request_version_ >= 11 && !keep_alive) {
      head_out_.append("Connection: close\r\n");
    } else if (request_version_ < 11 && keep_alive) {
      head_out_.append("Connection: keep-alive\r\n");
    }
    head_out_.append("\r\n");
    if (!head_) {
      body_out_ = std::move(response.body);
    }
    return keep_alive;
  }

  void do_write(bool keep_alive) {
    state_ = State::Writing;
    tcp().expires_after(ms(limits().write_timeout_ms));
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_out_),
                                                   net::buffer(body_out_)};
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&Session::on_write, this->shared_from_this(),
                                               keep_alive));
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    body_out_.clear();
    if (body_out_.capacity() > kReadChunk) {
      body_out_.shrink_to_fit();  // an idle keep-alive connection holds no large body
    }
    if (ec) {
      core::log::debug("http_write_failed", {{"listener", listener_->name},
                                             {"remote", remote_},
                                             {"reason", ec.message()}});
      return;
    }
    if (!keep_alive) {
      return do_close();
    }
    do_read_next();
  }

  //--------------------------------------------------------------------------------------------
  // Refusals the server answers itself, then closes: the rest of the stream cannot be trusted.

  void refuse(int status, std::string_view description, beast::error_code ec) {
    listener_->counters->refused++;
    core::log::warn("http_request_refused", {{"listener", listener_->name},
                                             {"remote", remote_},
                                             {"status", status},
                                             {"reason", ec ? ec.message() : std::string(description)}});
    parser_.reset();
    // Part of the request may still be on its way: drain it before closing, or the peer's
    // kernel answers our close with a reset that can discard this very response.
    drain_before_close_ = true;
    state_ = State::Handling;
    head_ = false;
    request_version_ = 11;
    self_ = this->shared_from_this();
    on_response(error_response(status, "invalid_request", description), true);
  }

  //--------------------------------------------------------------------------------------------
  // Closing: TLS sends close_notify; plain HTTP half-closes and drains a little so that the
  // peer reads the last response instead of a reset.

  void do_close() {
    state_ = State::Closing;
    tcp().expires_after(ms(std::min<std::uint32_t>(limits().write_timeout_ms, kCloseTimeoutMs)));
    if constexpr (kTls) {
      if (drain_before_close_) {
        return do_tls_drain();
      }
      stream_.async_shutdown(
          beast::bind_front_handler(&Session::on_shutdown, this->shared_from_this()));
    } else {
      beast::error_code ignored;
      tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
      do_linger();
    }
  }

  void on_shutdown(beast::error_code) {}

  // TLS refusals: read and discard what the peer still sends (bounded by kMaxLinger and the
  // close timeout set in do_close), then send close_notify.
  void do_tls_drain() {
    buffer_.consume(buffer_.size());
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            beast::bind_front_handler(&Session::on_tls_drain,
                                                      this->shared_from_this()));
  }

  void on_tls_drain(beast::error_code ec, std::size_t n) {
    lingered_ += n;
    if (ec || lingered_ > kMaxLinger) {
      drain_before_close_ = false;
      if (ec == beast::error::timeout || ec == net::error::operation_aborted) {
        return;  // the deadline passed: the socket is closed already
      }
      tcp().expires_after(ms(kCloseTimeoutMs));
      if constexpr (kTls) {
        stream_.async_shutdown(
            beast::bind_front_handler(&Session::on_shutdown, this->shared_from_this()));
      }
      return;
    }
    do_tls_drain();
  }

  void do_linger() {
    buffer_.consume(buffer_.size());
    tcp().async_read_some(buffer_.prepare(kReadChunk),
                          beast::bind_front_handler(&Session::on_linger,
                                                    this->shared_from_this()));
  }

  void on_linger(beast::error_code ec, std::size_t n) {
    lingered_ += n;
    if (ec || lingered_ > kMaxLinger) {
      return;
    }
    do_linger();
  }

  static constexpr std::size_t kReadChunk = 4096;
  static constexpr std::uint32_t kCloseTimeoutMs = 1000;
  static constexpr std::size_t kMaxLinger = 256 * 1024;

  Stream stream_;
  std::string remote_;
  std::shared_ptr<const ListenerShared> listener_;
  WorkerLink link_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string head_out_;  // the response being written: status line and header fields
  std::string body_out_;
  std::shared_ptr<const PeerCertificate> peer_;
  std::string sni_;
  std::shared_ptr<Session> self_;
  State state_ = State::Idle;
  std::uint32_t served_ = 0;
  unsigned request_version_ = 11;
  std::size_t lingered_ = 0;
  bool request_keep_alive_ = false;
  bool drain_before_close_ = false;
  bool head_ = false;
  bool stopping_ = false;
};

}  // namespace fapigate::http::detail
