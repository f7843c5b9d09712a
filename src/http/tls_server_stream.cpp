#include "http/tls_server_stream.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <boost/asio/ssl/error.hpp>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace fapigate::http::detail {

namespace tls_io {
namespace {

constexpr std::size_t kMaxDiscard = 256 * 1024;  // read while waiting for the peer's close_notify
constexpr std::size_t kGather = 16 * 1024;       // one TLS record of plaintext

//----------------------------------------------------------------------------------------------
// A BIO over the connection's socket: recv/send with MSG_NOSIGNAL (OpenSSL's socket BIO uses
// write(), which raises SIGPIPE on a connection the peer has reset). It looks the descriptor up
// on every call, so once the socket is closed (timeout, stop) nothing reaches a descriptor
// number the kernel may have given to another connection.

int fd_of(BIO* b) {
  auto* impl = static_cast<Impl*>(BIO_get_data(b));
  return impl != nullptr && impl->socket.is_open() ? impl->socket.native_handle() : -1;
}

int bio_read(BIO* b, char* data, std::size_t len, std::size_t* done) {
  BIO_clear_retry_flags(b);
  *done = 0;
  const int fd = fd_of(b);
  if (fd < 0) {
    errno = EBADF;
    return 0;
  }
  ssize_t n = 0;
  do {
    n = ::recv(fd, data, len, 0);
  } while (n < 0 && errno == EINTR);
  auto* impl = static_cast<Impl*>(BIO_get_data(b));
  if (n > 0) {
    *done = static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < len) {
      impl->note_drained();  // a short read took all the kernel had
    }
    return 1;
  }
  if (n == 0) {
    impl->eof = true;
  } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
    BIO_set_retry_read(b);
    impl->note_drained();
  }
  return 0;
}

int bio_write(BIO* b, const char* data, std::size_t len, std::size_t* done) {
  BIO_clear_retry_flags(b);
  *done = 0;
  const int fd = fd_of(b);
  if (fd < 0) {
    errno = EBADF;
    return 0;
  }
  ssize_t n = 0;
  do {
    n = ::send(fd, data, len, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    *done = static_cast<std::size_t>(n);
    return 1;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    BIO_set_retry_write(b);
  }
  return 0;
}

long bio_ctrl(BIO* b, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // nothing is buffered here
    case BIO_CTRL_EOF: {
      auto* impl = static_cast<Impl*>(BIO_get_data(b));
      return impl != nullptr && impl->eof ? 1 : 0;
    }
    default:
      return 0;
  }
}

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

int bio_destroy(BIO* b) {
  BIO_set_data(b, nullptr);
  return 1;
}

// Built once; immutable afterwards and shared by every connection of every thread.
const BIO_METHOD* socket_bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "fapigate socket");
    if (m != nullptr) {
      BIO_meth_set_read_ex(m, bio_read);
      BIO_meth_set_write_ex(m, bio_write);
      BIO_meth_set_ctrl(m, bio_ctrl);
      BIO_meth_set_create(m, bio_create);
      BIO_meth_set_destroy(m, bio_destroy);
    }
    return m;
  }();
  return method;
}

//----------------------------------------------------------------------------------------------
// OpenSSL results as Asio errors, the way asio::ssl::stream reports them (so callers and logs
// read the same): close_notify is eof, an end of stream without it is stream_truncated.

Attempt failed(beast::error_code ec) {
  Attempt a;
  a.ec = ec;
  return a;
}

Attempt outcome(SSL* ssl, int rc, std::size_t bytes, const Impl& impl) {
  if (rc > 0) {
    Attempt a;
    a.bytes = bytes;
    return a;
  }
  const int saved_errno = errno;
  const int err = SSL_get_error(ssl, rc);
  switch (err) {
    case SSL_ERROR_WANT_READ: {
      Attempt a;
      a.want = Want::Read;
      return a;
    }
    case SSL_ERROR_WANT_WRITE: {
      Attempt a;
      a.want = Want::Write;
      return a;
    }
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error();
      return failed(boost::asio::error::eof);
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      if (impl.eof || saved_errno == 0) {
        return failed(boost::asio::ssl::error::stream_truncated);
      }
      return failed(beast::error_code(saved_errno, boost::system::system_category()));
    default: {
      const unsigned long e = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
          ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        return failed(boost::asio::ssl::error::stream_truncated);
      }
      return failed(beast::error_code(static_cast<int>(e), boost::asio::error::get_ssl_category()));
    }
  }
}

}  // namespace

Impl::Impl(tcp::socket s, ssl_ctx_st* ctx) : socket(std::move(s)), timer(socket.get_executor()) {
  beast::error_code ignored;
  socket.non_blocking(true, ignored);
  const BIO_METHOD* method = socket_bio_method();
  ssl = method != nullptr ? SSL_new(ctx) : nullptr;
  BIO* bio = ssl != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) {
    SSL_free(ssl);
    ssl = nullptr;
    ERR_clear_error();
    return;
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO
  SSL_set_accept_state(ssl);
  // One recv() takes what the kernel has (a whole request, usually) instead of a record header
  // and then its body; partial writes let a large response go out record by record.
  SSL_set_read_ahead(ssl, 1);
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

Impl::~Impl() {
  if (ssl != nullptr) {
    SSL_free(ssl);
  }
}

Attempt Impl::handshake() {
  if (ssl == nullptr) {
    return failed(make_error_code(boost::system::errc::not_enough_memory));
  }
  ERR_clear_error();
  return outcome(ssl, SSL_do_handshake(ssl), 0, *this);
}

Attempt Impl::read(net::mutable_buffer b) {
  if (b.size() == 0) {
    return {};
  }
  ERR_clear_error();
  std::size_t n = 0;
  const int rc = SSL_read_ex(ssl, b.data(), b.size(), &n);
  return outcome(ssl, rc, n, *this);
}

Attempt Impl::write(const net::const_buffer* buffers, std::size_t count) {
  if (count == 0) {
    return {};
  }
  const void* data = buffers[0].data();
  std::size_t size = buffers[0].size();
  if (count > 1 && size < kGather) {
    // A response head and its body as one record and one send(). The bytes are gathered again
    // on a retry after WANT_WRITE: the same content, which SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
    // allows at another address.
    thread_local std::unique_ptr<unsigned char[]> scratch(new unsigned char[kGather]);
    size = 0;
    for (std::size_t i = 0; i < count && size < kGather; ++i) {
      const std::size_t take = std::min(buffers[i].size(), kGather - size);
      std::memcpy(scratch.get() + size, buffers[i].data(), take);
      size += take;
    }
    data = scratch.get();
  }
  ERR_clear_error();
  std::size_t n = 0;
  const int rc = SSL_write_ex(ssl, data, size, &n);
  return outcome(ssl, rc, n, *this);
}

Attempt Impl::readable() {
  // Bytes OpenSSL read ahead (a pipelined request) never wake the socket again.
  if (SSL_has_pending(ssl) == 1) {
    return {};
  }
  if (drain_watch.watching()) {
    // Nothing has arrived since the socket was last seen empty: wait, without a system call.
    Attempt a;
    a.want = Want::Read;
    return a;
  }
  // Something may have: OpenSSL reads it into its read-ahead buffer (the request's read then
  // takes it from there, no second recv) and tells whether it holds application data.
  unsigned char byte = 0;
  std::size_t n = 0;
  ERR_clear_error();
  const int rc = SSL_peek_ex(ssl, &byte, 1, &n);
  if (rc == 1) {
    return {};
  }
  Attempt a = outcome(ssl, rc, 0, *this);
  if (a.want == Want::Nothing) {
    a.ec = {};  // the end of the stream or an error: the read that follows reports it
  }
  return a;
}

Attempt Impl::shutdown() {
  if (!close_notify_sent) {
    ERR_clear_error();
    const int rc = SSL_shutdown(ssl);
    if (rc < 0) {
      Attempt a = outcome(ssl, rc, 0, *this);
      return a;  // WANT_WRITE retries; anything else ends the shutdown
    }
    close_notify_sent = true;
    if (rc == 1) {
      return {};  // the peer's close_notify came first
    }
  }
  unsigned char sink[4096];
  for (;;) {
    ERR_clear_error();
    std::size_t n = 0;
    const int rc = SSL_read_ex(ssl, sink, sizeof sink, &n);
    if (rc == 1) {
      discarded += n;
      if (discarded > kMaxDiscard) {
        return {};
      }
      continue;
    }
    Attempt a = outcome(ssl, rc, 0, *this);
    if (a.want == Want::Read) {
      return a;
    }
    return {};  // close_notify, end of stream or an error: done either way
  }
}

void Impl::note_drained() {
  drain_watch.start(socket, weak_from_this());
}

bool Impl::arm() {
  if (deadline <= Clock::now()) {  // never true for time_point::max()
    armed = false;
    timed_out = true;
    beast::error_code ignored;
    socket.close(ignored);
    return false;
  }
  armed = true;
  schedule_timer();
  return true;
}

void Impl::disarm() { armed = false; }

// The timer is lazy: it stays set for the earliest deadline it was given and, when it fires
// before the current deadline, sets itself again. Each keep-alive request moves the deadline
// later, which then costs nothing, where setting and cancelling the timer per wait cost a
// timer-queue insertion, a removal and an aborted handler per request. Only a deadline earlier
// than the pending expiry (a read timeout shorter than the idle timeout) sets it again.
void Impl::schedule_timer() {
  if (deadline == Clock::time_point::max() || timer_expiry <= deadline) {
    return;
  }
  timer_expiry = deadline;
  timer.expires_at(deadline);  // a pending wait for a later expiry ends with operation_aborted
  timer.async_wait([weak = weak_from_this()](beast::error_code ec) {
    if (ec) {
      return;  // set again for an earlier deadline, or the stream is gone
    }
    if (auto self = weak.lock()) {
      self->on_timer();
    }
  });
}

void Impl::on_timer() {
  timer_expiry = Clock::time_point::max();
  if (!armed) {
    return;  // no wait in progress: the next one sets the timer again
  }
  if (deadline > Clock::now()) {
    schedule_timer();  // the deadline moved later since the timer was set
    return;
  }
  armed = false;
  timed_out = true;
  beast::error_code ignored;
  socket.close(ignored);  // the pending wait completes with operation_aborted
}

}  // namespace tls_io

TlsServerStream::TlsServerStream(boost::asio::ip::tcp::socket socket, ssl_ctx_st* ctx)
    : impl_(std::make_shared<tls_io::Impl>(std::move(socket), ctx)) {}

TlsServerStream::~TlsServerStream() = default;

void TlsServerStream::expires_after(Clock::duration d) {
  tls_io::Impl& impl = *impl_;
  impl.deadline = Clock::now() + d;
  if (impl.armed) {
    impl.schedule_timer();  // a wait is pending: it now ends at the new deadline
  }
}

void TlsServerStream::expires_never() {
  impl_->deadline = Clock::time_point::max();  // a pending timer finds it later and stops
}

}  // namespace fapigate::http::detail
