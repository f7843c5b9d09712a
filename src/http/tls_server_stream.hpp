// Internal to http/*.cpp (includes Asio): the server side of a TLS connection, with no buffers
// of its own. OpenSSL reads and writes the non-blocking socket itself (a BIO over recv/send);
// Asio only reports readiness. It replaces asio::ssl::stream for accepted connections, which
// holds four fixed 17 KiB buffers per connection (stream_core's input and output buffers and
// the two halves of its BIO pair): ~68 KiB of the ~85 KiB an idle mTLS keep-alive connection
// used to cost, where a gateway holds thousands of them. With SSL_MODE_RELEASE_BUFFERS
// (tls/context.cpp) an idle connection keeps no record buffer either.
//
// It models Beast's AsyncReadStream / AsyncWriteStream (bhttp::async_read, net::async_write)
// and is its own lowest layer with tcp_stream's timeout interface: expires_after() sets a
// deadline that applies to the waits of the operations that follow; when it passes, the socket
// is closed and the pending operation completes with beast::error::timeout. As with every Asio
// I/O object, the stream must outlive its operations, and one operation of a kind at a time.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/async_base.hpp>
#include <boost/beast/core/error.hpp>

#include "http/drain_watch.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace fapigate::http::detail {

namespace tls_io {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

enum class Want { Nothing, Read, Write };

// What one non-blocking attempt at an SSL call came to.
struct Attempt {
  Want want = Want::Nothing;
  beast::error_code ec;
  std::size_t bytes = 0;
};

// Owns the socket, the SSL object and the deadline timer. Heap-allocated (shared) so that a
// timer handler queued after the stream is gone finds it gone (weak reference) instead of
// freed memory.
struct Impl : std::enable_shared_from_this<Impl> {
  Impl(tcp::socket s, ssl_ctx_st* ctx);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Attempt handshake();
  Attempt read(net::mutable_buffer b);
  // Up to 8 buffers, written as one TLS record when they fit (a response head and its body).
  Attempt write(const net::const_buffer* buffers, std::size_t count);
  Attempt readable();
  Attempt shutdown();

  // The BIO saw the receive queue empty: from here a read wait needs no epoll re-arm
  // (http/drain_watch.hpp).
  void note_drained();

  // A wait is about to start: it ends at the deadline; false if the deadline has passed.
  bool arm();
  void disarm();
  void schedule_timer();
  void on_timer();

  tcp::socket socket;
  net::steady_timer timer;
  ssl_st* ssl = nullptr;
  Clock::time_point deadline = Clock::time_point::max();
  Clock::time_point timer_expiry = Clock::time_point::max();  // max: the timer is not set
  bool armed = false;            // a wait is in progress, bounded by the deadline
  bool timed_out = false;
  bool eof = false;              // recv() returned 0 (read by the BIO's EOF control)
  bool close_notify_sent = false;
  DrainWatch drain_watch;        // http/drain_watch.hpp
  std::size_t discarded = 0;     // application data thrown away while shutting down
};

// Handlers run inline for operations done at once, at most this many deep on a thread.
inline thread_local int inline_depth = 0;
constexpr int kMaxInlineDepth = 4;

// One operation: try the SSL call, wait for the readiness it asks for, try again. When it
// finishes without waiting, its handler runs inline up to kMaxInlineDepth (see finish()), and
// through a post beyond.
template <class Handler, class Step, bool kWithBytes>
class Op : public beast::async_base<Handler, net::any_io_executor> {
public:
  template <class H>
  Op(H&& handler, Impl& impl, Step step)
      : beast::async_base<Handler, net::any_io_executor>(std::forward<H>(handler),
                                                          impl.socket.get_executor()),
        impl_(impl),
        step_(std::move(step)) {
    attempt(false);
  }

  void operator()(beast::error_code ec) {
    if (impl_.timed_out) {
      ec = beast::error::timeout;
    }
    if (ec) {
      return finish(true, ec, 0);
    }
    attempt(true);
  }

private:
  void attempt(bool continuation) {
    if (impl_.timed_out) {
      return finish(continuation, beast::error::timeout, 0);
    }
    Attempt a = step_(impl_);
    if (a.want == Want::Nothing) {
      return finish(continuation, a.ec, a.bytes);
    }
    if (!impl_.arm()) {
      return finish(continuation, beast::error::timeout, 0);
    }
    tcp::socket& socket = impl_.socket;
    socket.async_wait(a.want == Want::Read ? tcp::socket::wait_read : tcp::socket::wait_write,
                      std::move(*this));
  }

  void finish(bool continuation, beast::error_code ec, std::size_t bytes) {
    impl_.disarm();
    if (!continuation && inline_depth < kMaxInlineDepth) {
      // Done at once, inside the initiating call. Asio would have the handler posted, which
      // costs a trip through the io_context's queue and, with few connections, an epoll poll
      // each time (a request read at once, a response written at once: measured 5.1
      // epoll_wait per request at one connection). The callers (Session, Beast's read and
      // Asio's write compositions) initiate as their last step, so running the handler here
      // is safe; the depth bound keeps a run of them (pipelined requests answered at once)
      // from growing the stack, past it the handler is posted.
      ++inline_depth;
      struct Leave {
        ~Leave() { --inline_depth; }
      } leave;
      complete_now(true, ec, bytes);
      return;
    }
    complete_now(continuation, ec, bytes);
  }

  void complete_now(bool continuation, beast::error_code ec, std::size_t bytes) {
    if constexpr (kWithBytes) {
      this->complete(continuation, ec, bytes);
    } else {
      this->complete(continuation, ec);
    }
  }

  Impl& impl_;
  Step step_;
};

struct HandshakeStep {
  Attempt operator()(Impl& impl) const { return impl.handshake(); }
};
struct ShutdownStep {
  Attempt operator()(Impl& impl) const { return impl.shutdown(); }
};
// Done once application data (or the end of the stream) is there to read; a wake-up that
// brought none (a stale edge, a handshake message) waits again, so the caller's read, with its
// shorter timeout, starts only when a request has begun.
struct ReadableStep {
  Attempt operator()(Impl& impl) const { return impl.readable(); }
};
struct ReadStep {
  net::mutable_buffer buffer;
  Attempt operator()(Impl& impl) const { return impl.read(buffer); }
};
template <class ConstBufferSequence>
struct WriteStep {
  ConstBufferSequence buffers;
  Attempt operator()(Impl& impl) const {
    std::array<net::const_buffer, 8> list;
    std::size_t n = 0;
    for (auto it = net::buffer_sequence_begin(buffers);
         it != net::buffer_sequence_end(buffers) && n < list.size(); ++it) {
      net::const_buffer b(*it);
      if (b.size() > 0) {
        list[n++] = b;
      }
    }
    return impl.write(list.data(), n);
  }
};

}  // namespace tls_io

class TlsServerStream {
public:
  using executor_type = boost::asio::any_io_executor;
  using Clock = tls_io::Clock;

  // The socket is made non-blocking; `ctx` is up-referenced by the SSL object.
  TlsServerStream(boost::asio::ip::tcp::socket socket, ssl_ctx_st* ctx);
  ~TlsServerStream();
  TlsServerStream(TlsServerStream&&) noexcept = default;
  TlsServerStream& operator=(TlsServerStream&&) = delete;

  executor_type get_executor() { return impl_->socket.get_executor(); }
  ssl_st* native_handle() const { return impl_->ssl; }
  boost::asio::ip::tcp::socket& socket() { return impl_->socket; }

  // tcp_stream's timeout interface (Session calls these on the lowest layer).
  void expires_after(Clock::duration d);
  void expires_never();

  template <class Handler>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type, Handler&& handler) {
    return initiate<false>(std::forward<Handler>(handler), tls_io::HandshakeStep{});
  }

  // Completes (with 0 bytes) once a request can be read, without any buffer: what a connection
  // does while it waits, idle, for its next keep-alive request.
  template <class Handler>
  auto async_wait_readable(Handler&& handler) {
    return initiate<true>(std::forward<Handler>(handler), tls_io::ReadableStep{});
  }

  template <class MutableBufferSequence, class Handler>
  auto async_read_some(const MutableBufferSequence& buffers, Handler&& handler) {
    boost::asio::mutable_buffer first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer b(*it);
      if (b.size() > 0) {
        first = b;
        break;
      }
    }
    return initiate<true>(std::forward<Handler>(handler), tls_io::ReadStep{first});
  }

  template <class ConstBufferSequence, class Handler>
  auto async_write_some(const ConstBufferSequence& buffers, Handler&& handler) {
    return initiate<true>(std::forward<Handler>(handler),
                          tls_io::WriteStep<ConstBufferSequence>{buffers});
  }

  // Sends close_notify, then reads (and discards) until the peer's close_notify or its end of
  // stream, so that the peer's kernel has no unread data to answer our close with a reset.
  template <class Handler>
  auto async_shutdown(Handler&& handler) {
    return initiate<false>(std::forward<Handler>(handler), tls_io::ShutdownStep{});
  }

private:
  template <bool kWithBytes, class Handler, class Step>
  auto initiate(Handler&& handler, Step step) {
    using Sig = std::conditional_t<kWithBytes, void(boost::beast::error_code, std::size_t),
                                   void(boost::beast::error_code)>;
    return boost::asio::async_initiate<Handler, Sig>(
        [](auto&& h, tls_io::Impl* impl, Step s) {
          using H = std::decay_t<decltype(h)>;
          tls_io::Op<H, Step, kWithBytes>(std::forward<decltype(h)>(h), *impl, std::move(s));
        },
        handler, impl_.get(), std::move(step));
  }

  std::shared_ptr<tls_io::Impl> impl_;
};

}  // namespace fapigate::http::detail
