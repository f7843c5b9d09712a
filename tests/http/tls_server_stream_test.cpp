// The server's TLS sessions (http/tls_server_stream): keep-alive, pipelining, large bodies both
// ways, timeouts at every phase, many idle connections, graceful stop; driven by a blocking
// OpenSSL client on a real loopback socket, as a partner's stack would.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "http/test_support.hpp"
#include "tls/test_pki.hpp"

namespace fapigate::http {
namespace {

using fapigate::testing::TestPki;
using testing::handler;
using testing::TestServer;

config::Tls tls_config() {
  const auto& pki = TestPki::get();
  return config::Tls{pki.server_cert, pki.server_key, pki.ca_file,
                     config::ClientCertMode::Required};
}

int connect_loopback(std::uint16_t port, int timeout_ms) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A blocking mTLS client with the partner certificate.
class TlsClient {
public:
  explicit TlsClient(std::uint16_t port, int timeout_ms = 5000) {
    // OpenSSL writes with write(): a server that closed would kill the test binary instead of
    // failing the assertion.
    std::signal(SIGPIPE, SIG_IGN);
    const auto& pki = TestPki::get();
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_load_verify_locations(ctx_.get(), pki.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    SSL_CTX_use_certificate_chain_file(ctx_.get(), pki.client_cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx_.get(), pki.client_key.c_str(), SSL_FILETYPE_PEM);
    fd_ = connect_loopback(port, timeout_ms);
    if (fd_ < 0) {
      return;
    }
    ssl_.reset(SSL_new(ctx_.get()));
    SSL_set_fd(ssl_.get(), fd_);
    SSL_set_tlsext_host_name(ssl_.get(), "localhost");
    ok_ = SSL_connect(ssl_.get()) == 1;
    ERR_clear_error();
  }
  ~TlsClient() {
    ssl_.reset();
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool connected() const { return ok_; }

  // A TLS 1.3 KeyUpdate: a record that wakes the server but carries no request.
  bool send_key_update() {
    const bool ok = SSL_key_update(ssl_.get(), SSL_KEY_UPDATE_NOT_REQUESTED) == 1 &&
                    SSL_do_handshake(ssl_.get()) == 1;
    ERR_clear_error();
    return ok;
  }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const int n = SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()));
      if (n <= 0) {
        ERR_clear_error();
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response (head + Content-Length body); empty if the server closed or timed out first.
  std::string read_response() {
    std::size_t head_end = std::string::npos;
    while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return {};
      }
    }
    std::size_t length = 0;
    const std::string head = pending_.substr(0, head_end);
    const auto cl = head.find("Content-Length: ");
    if (cl != std::string::npos) {
      length = std::stoul(head.substr(cl + 16));
    }
    while (pending_.size() < head_end + 4 + length) {
      if (!fill()) {
        return {};
      }
    }
    std::string out = pending_.substr(0, head_end + 4 + length);
    pending_.erase(0, out.size());
    return out;
  }

  // True when the server ends the connection (close_notify or EOF) within the receive timeout.
  bool closed_by_server() {
    char b;
    const int n = SSL_read(ssl_.get(), &b, 1);
    const int err = SSL_get_error(ssl_.get(), n);
    ERR_clear_error();
    return n <= 0 && (err == SSL_ERROR_ZERO_RETURN ||
                      (err == SSL_ERROR_SYSCALL && errno != EAGAIN && errno != EWOULDBLOCK) ||
                      err == SSL_ERROR_SSL);
  }

private:
  bool fill() {
    char buf[16384];
    const int n = SSL_read(ssl_.get(), buf, sizeof buf);
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  struct CtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
  };
  struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
  };
  std::unique_ptr<SSL_CTX, CtxFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
  int fd_ = -1;
  bool ok_ = false;
  std::string pending_;
};

std::shared_ptr<Handler> whoami() {
  return handler([](Request r, Responder respond) {
    std::string who = r.peer_certificate ? r.peer_certificate->subject_dn : "anonymous";
    respond(Response::text(200, r.method + " " + r.target + " " + who + " " +
                                    std::to_string(r.body.size())));
  });
}

std::string get(std::string_view path) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
}

TEST(TlsSession, KeepAliveServesSeveralRequestsWithThePeerCertificate) {
  auto srv = TestServer::start(whoami(), {}, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.send(get("/r" + std::to_string(i))));
    const std::string res = c.read_response();
    EXPECT_NE(res.find("HTTP/1.1 200"), std::string::npos) << res;
    EXPECT_NE(res.find("GET /r" + std::to_string(i) + " " + TestPki::get().client_subject_dn),
              std::string::npos)
        << res;
  }
  EXPECT_EQ(srv.server->stats().connections_accepted, 1u);
}

TEST(TlsSession, PipelinedRequestsAreAllAnswered) {
  auto srv = TestServer::start(whoami(), {}, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  // Three requests in one TLS record: the second and third sit in OpenSSL's read-ahead, which
  // never wakes the socket again.
  ASSERT_TRUE(c.send(get("/a") + get("/b") + get("/c")));
  for (const char* p : {"/a", "/b", "/c"}) {
    const std::string res = c.read_response();
    EXPECT_NE(res.find(std::string("GET ") + p + " "), std::string::npos) << res;
  }
}

// The server starts waiting for the next request without re-arming the socket when it has
// seen the socket empty since (http/drain_watch.hpp). These two cover the cases where bytes
// arrive in between: a request sent while the previous one is still being answered (its
// arrival is seen before the server waits for it), and a request in several records with
// pauses (each record wakes a wait started after the previous one drained the socket).
TEST(TlsSession, RequestSentWhileThePreviousIsBeingAnsweredIsServed) {
  auto srv = TestServer::start(handler([](Request r, Responder respond) {
                                 if (r.target == "/slow") {
                                   std::thread([respond] {
                                     std::this_thread::sleep_for(std::chrono::milliseconds(150));
                                     respond(Response::text(200, "slow"));
                                   }).detach();
                                   return;
                                 }
                                 respond(Response::text(200, "quick " + r.target));
                               }),
                               {}, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(c.send(get("/slow")));
    std::this_thread::sleep_for(std::chrono::milliseconds(40));  // the server is waiting
    ASSERT_TRUE(c.send(get("/next")));
    const std::string first = c.read_response();
    EXPECT_NE(first.find("\r\n\r\nslow"), std::string::npos) << first;
    const std::string second = c.read_response();
    EXPECT_NE(second.find("quick /next"), std::string::npos) << second;
  }
  ASSERT_TRUE(c.send(get("/last")));
  EXPECT_NE(c.read_response().find("quick /last"), std::string::npos);
}

TEST(TlsSession, RequestInSeveralRecordsWithPausesIsServed) {
  auto srv = TestServer::start(whoami(), {}, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  for (int round = 0; round < 3; ++round) {
    const std::string request = "POST /parts HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n0123456789";
    for (std::size_t at = 0; at < request.size(); at += 20) {
      ASSERT_TRUE(c.send(request.substr(at, 20)));
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
    const std::string res = c.read_response();
    EXPECT_NE(res.find("POST /parts "), std::string::npos) << res;
    EXPECT_NE(res.find(" 10"), std::string::npos) << res;
  }
}

TEST(TlsSession, LargeBodiesBothWays) {
  auto srv = TestServer::start(handler([](Request r, Responder respond) {
                                 // Echo the body three times over: several TLS records out.
                                 respond(Response::text(200, r.body + r.body + r.body));
                               }),
                               {}, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  std::string body(60 * 1024, 'x');
  for (std::size_t i = 0; i < body.size(); i += 97) {
    body[i] = static_cast<char>('a' + i % 26);
  }
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n" + body));
  const std::string res = c.read_response();
  ASSERT_NE(res.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(res.substr(res.find("\r\n\r\n") + 4), body + body + body);
}

TEST(TlsSession, ResponseLargerThanTheSocketBufferWaitsForASlowReader) {
  const std::string big(4 * 1024 * 1024, 'z');
  auto srv = TestServer::start(handler([big](Request, Responder respond) {
                                 respond(Response::text(200, big));
                               }),
                               {}, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/big")));
  // The server's writes block (WANT_WRITE) until this reader drains the socket.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string res = c.read_response();
  ASSERT_NE(res.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_EQ(res.size() - (res.find("\r\n\r\n") + 4), big.size());
  ASSERT_TRUE(c.send(get("/big")));  // still usable afterwards
  EXPECT_NE(c.read_response().find("HTTP/1.1 200"), std::string::npos);
}

TEST(TlsSession, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  config::Limits limits;
  limits.idle_timeout_ms = 300;
  auto srv = TestServer::start(whoami(), limits, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/once")));
  ASSERT_NE(c.read_response().find("HTTP/1.1 200"), std::string::npos);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_server());
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::milliseconds(3000));
}

TEST(TlsSession, ConnectionWithinItsIdleTimeoutStaysOpen) {
  config::Limits limits;
  limits.idle_timeout_ms = 1500;
  auto srv = TestServer::start(whoami(), limits, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send(get("/x")));
    ASSERT_NE(c.read_response().find("HTTP/1.1 200"), std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // each wait well within it
  }
}

// A wake-up that brings no request (here a KeyUpdate; also a readiness edge left over from
// bytes already read) leaves the connection waiting under its idle timeout, not the read
// timeout of a request that has begun.
TEST(TlsSession, RecordWithoutARequestKeepsTheIdleTimeout) {
  config::Limits limits;
  limits.read_timeout_ms = 200;
  limits.idle_timeout_ms = 3000;
  auto srv = TestServer::start(whoami(), limits, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/first")));
  ASSERT_NE(c.read_response().find("HTTP/1.1 200"), std::string::npos);
  ASSERT_TRUE(c.send_key_update());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // past the read timeout
  ASSERT_TRUE(c.send(get("/second")));
  const std::string res = c.read_response();
  EXPECT_NE(res.find("GET /second "), std::string::npos) << res;
}

TEST(TlsSession, SilentClientIsClosedAtHandshakeTimeout) {
  config::Limits limits;
  limits.handshake_timeout_ms = 300;
  auto srv = TestServer::start(whoami(), limits, tls_config());
  const int fd = connect_loopback(srv.port, 5000);
  ASSERT_GE(fd, 0);
  const auto start = std::chrono::steady_clock::now();
  char b;
  EXPECT_EQ(::recv(fd, &b, 1, 0), 0);  // orderly close, no bytes: the handshake never began
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3000));
  ::close(fd);
}

TEST(TlsSession, PartialRequestIsClosedAtReadTimeout) {
  config::Limits limits;
  limits.read_timeout_ms = 300;
  auto srv = TestServer::start(whoami(), limits, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GET /slow HTTP/1.1\r\nHost: loc"));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3000));
}

TEST(TlsSession, OversizedHeaderIsRefusedOverTls) {
  config::Limits limits;
  limits.max_header_bytes = 1024;
  auto srv = TestServer::start(whoami(), limits, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + std::string(4096, 'a') +
                     "\r\n\r\n"));
  const std::string res = c.read_response();
  EXPECT_NE(res.find("HTTP/1.1 431"), std::string::npos) << res;
}

// Many keep-alive connections open at once, each having been served, then idle: all accepted,
// all counted as active, all still answering.
TEST(TlsSession, ManyIdleConnectionsAreAcceptedAndKeptOpen) {
  constexpr int kConnections = 100;
  config::Limits limits;
  limits.idle_timeout_ms = 600'000;  // opening them all may take a while on a loaded machine
  auto srv = TestServer::start(whoami(), limits, tls_config());
  std::vector<std::unique_ptr<TlsClient>> clients;
  for (int i = 0; i < kConnections; ++i) {
    auto c = std::make_unique<TlsClient>(srv.port);
    ASSERT_TRUE(c->connected()) << i;
    ASSERT_TRUE(c->send(get("/hello")));
    ASSERT_NE(c->read_response().find("HTTP/1.1 200"), std::string::npos) << i;
    clients.push_back(std::move(c));
  }
  EXPECT_EQ(srv.server->stats().active_connections, static_cast<std::uint64_t>(kConnections));
  for (auto& c : clients) {
    ASSERT_TRUE(c->send(get("/again")));
    EXPECT_NE(c->read_response().find("GET /again"), std::string::npos);
  }
}

TEST(TlsSession, StopClosesIdleConnections) {
  auto srv = TestServer::start(whoami(), {}, tls_config());
  TlsClient c(srv.port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/x")));
  ASSERT_NE(c.read_response().find("HTTP/1.1 200"), std::string::npos);
  srv.server->stop(std::chrono::milliseconds(2000));
  EXPECT_TRUE(c.closed_by_server());
  srv.server->wait();
  srv.server.reset();
}

}  // namespace
}  // namespace fapigate::http
