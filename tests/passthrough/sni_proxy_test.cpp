// passthrough/sni_proxy over loopback: two real TLS servers (http::Server) behind one proxy
// port, a real OpenSSL client choosing by SNI, the default backend, refusals (plain HTTP, no
// backend, connection limit, ClientHello timeout), a ClientHello split over TCP segments, and
// a route table replaced while running.
#include "passthrough/sni_proxy.hpp"

#include <openssl/ssl.h>

#include <thread>

#include "http/test_support.hpp"
#include "support/test_pki.hpp"

namespace fapigate::passthrough {
namespace {

using namespace std::chrono_literals;
using http::testing::RawConnection;

config::Tls server_tls() {
  const auto& pki = test::shared_test_pki();
  config::Tls t;
  t.cert_file = pki.server_cert_file;
  t.key_file = pki.server_key_file;
  return t;
}

http::testing::TestServer named_server(const std::string& name) {
  return http::testing::TestServer::start(
      http::testing::handler([name](http::Request r, http::Responder respond) {
        respond(http::Response::text(200, name + " sni=" + r.sni));
      }),
      {}, server_tls(), 1);
}

// A blocking loopback socket with a receive timeout.
struct Socket {
  explicit Socket(std::uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Socket() { ::close(fd); }
  void send(const std::string& s) const { ::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }
  int fd = -1;
  bool connected = false;
};

// A TLS client over a blocking socket: sends an optional SNI, one GET, returns the body ("" on
// any failure). `split` writes the ClientHello itself in three TCP segments with pauses between
// them and reports whether a ServerHello record came back.
std::string tls_get(std::uint16_t port, const std::string& sni, bool split = false) {
  Socket raw(port);
  if (!raw.connected) {
    return {};
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, test::shared_test_pki().ca_cert_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  std::string body;
  if (!sni.empty()) {
    SSL_set_tlsext_host_name(ssl, sni.c_str());
  }
  if (split) {
    // Write the ClientHello ourselves in two segments with a pause, then hand the socket over.
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    SSL* probe = SSL_new(ctx);
    SSL_set_tlsext_host_name(probe, sni.c_str());
    SSL_set_bio(probe, rbio, wbio);
    SSL_connect(probe);
    char* data = nullptr;
    const long len = BIO_get_mem_data(wbio, &data);
    const std::string hello(data, static_cast<std::size_t>(len));
    SSL_free(probe);
    raw.send(hello.substr(0, 3));
    std::this_thread::sleep_for(50ms);
    raw.send(hello.substr(3, 40));
    std::this_thread::sleep_for(50ms);
    raw.send(hello.substr(43));
    // The backend answers a hello we cannot continue from this SSL: enough that it answered.
    char buf[5];
    const auto n = ::recv(raw.fd, buf, sizeof buf, 0);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return n == 5 && buf[0] == 0x16 ? "server_hello" : "";
  }
  SSL_set_fd(ssl, raw.fd);
  if (SSL_connect(ssl) == 1) {
    const std::string req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    SSL_write(ssl, req.data(), static_cast<int>(req.size()));
    std::string resp;
    char buf[4096];
    int n = 0;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) {
      resp.append(buf, static_cast<std::size_t>(n));
    }
    const auto end = resp.find("\r\n\r\n");
    body = end == std::string::npos ? std::string() : resp.substr(end + 4);
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return body;
}

class SniProxyTest : public ::testing::Test {
protected:
  void SetUp() override {
    one_.emplace(named_server("one"));
    two_.emplace(named_server("two"));
    config_.enabled = true;
    config_.listener.address = "127.0.0.1";
    config_.routes = {{"localhost", "127.0.0.1:" + std::to_string(one_->port)},
                      {"*.two.test", "127.0.0.1:" + std::to_string(two_->port)}};
    config_.client_hello_timeout_ms = 500;
  }

  std::unique_ptr<SniProxy> start(const config::Passthrough& c) {
    auto p = SniProxy::create(c, 2);
    EXPECT_TRUE(p.has_value());
    (*p)->start();
    return std::move(*p);
  }

  void TearDown() override {
    if (proxy_) {
      proxy_->stop(0ms);
      proxy_->wait();
    }
  }

  std::optional<http::testing::TestServer> one_, two_;
  config::Passthrough config_;
  std::unique_ptr<SniProxy> proxy_;
};

TEST_F(SniProxyTest, RoutesByServerNameWithoutTerminatingTls) {
  proxy_ = start(config_);
  // The backend itself sees the SNI: the handshake went through to it untouched.
  EXPECT_EQ(tls_get(proxy_->port(), "localhost"), "one sni=localhost");
  EXPECT_EQ(proxy_->stats().routed, 1u);
}

TEST_F(SniProxyTest, WildcardMatchesOneLabel) {
  config_.default_backend = "127.0.0.1:" + std::to_string(one_->port);
  proxy_ = start(config_);
  // The certificate is for localhost: the handshake fails verification, but which backend
  // answered shows in the counters; use the split path to see a ServerHello come back.
  EXPECT_EQ(tls_get(proxy_->port(), "api.two.test", true), "server_hello");
  EXPECT_EQ(proxy_->stats().routed, 1u);
  EXPECT_EQ(tls_get(proxy_->port(), "a.b.two.test", true), "server_hello");
  EXPECT_EQ(proxy_->stats().defaulted, 1u);
}

TEST_F(SniProxyTest, ClientHelloSplitOverSegmentsIsReassembled) {
  proxy_ = start(config_);
  EXPECT_EQ(tls_get(proxy_->port(), "localhost", true), "server_hello");
  EXPECT_EQ(proxy_->stats().routed, 1u);
}

TEST_F(SniProxyTest, UnknownNameWithoutDefaultIsClosed) {
  proxy_ = start(config_);
  EXPECT_EQ(tls_get(proxy_->port(), "other.example"), "");
  EXPECT_EQ(proxy_->stats().no_backend, 1u);
}

TEST_F(SniProxyTest, NoSniGoesToTheDefaultBackend) {
  config_.default_backend = "127.0.0.1:" + std::to_string(two_->port);
  proxy_ = start(config_);
  // No SNI: the certificate still verifies (no name check without SNI in this client).
  EXPECT_EQ(tls_get(proxy_->port(), ""), "two sni=");
  EXPECT_EQ(proxy_->stats().defaulted, 1u);
}

TEST_F(SniProxyTest, PlainHttpIsRefused) {
  proxy_ = start(config_);
  RawConnection c(proxy_->port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(proxy_->stats().malformed, 1u);
}

TEST_F(SniProxyTest, SilentClientIsClosedAfterTheHelloTimeout) {
  proxy_ = start(config_);
  RawConnection c(proxy_->port(), 3000);
  ASSERT_TRUE(c.send(std::string("\x16\x03\x01\x00\x40", 5)));  // a header, then nothing
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(proxy_->stats().hello_timeouts, 1u);
}

TEST_F(SniProxyTest, ConnectionLimitClosesNewConnections) {
  config_.max_connections = 1;
  config_.client_hello_timeout_ms = 3000;
  proxy_ = start(config_);
  RawConnection first(proxy_->port());
  ASSERT_TRUE(first.send(std::string("\x16\x03", 2)));
  std::this_thread::sleep_for(100ms);
  RawConnection second(proxy_->port());
  EXPECT_TRUE(second.closed_by_peer());
  EXPECT_EQ(proxy_->stats().over_limit, 1u);
}

TEST_F(SniProxyTest, UnreachableBackendIsCountedAndClosed) {
  // A port nothing listens on: bind one and close it.
  std::uint16_t dead = 0;
  {
    auto tmp = named_server("gone");
    dead = tmp.port;
  }
  config_.routes = {{"localhost", "127.0.0.1:" + std::to_string(dead)}};
  proxy_ = start(config_);
  EXPECT_EQ(tls_get(proxy_->port(), "localhost"), "");
  EXPECT_EQ(proxy_->stats().backend_failures, 1u);
}

TEST_F(SniProxyTest, UpdateSwapsTheTableForNewConnections) {
  proxy_ = start(config_);
  EXPECT_EQ(tls_get(proxy_->port(), "localhost"), "one sni=localhost");
  config_.routes = {{"localhost", "127.0.0.1:" + std::to_string(two_->port)}};
  proxy_->update(config_);
  EXPECT_EQ(tls_get(proxy_->port(), "localhost"), "two sni=localhost");
}

TEST_F(SniProxyTest, StopClosesOpenTunnelsAtTheDeadline) {
  proxy_ = start(config_);
  RawConnection c(proxy_->port(), 5000);
  ASSERT_TRUE(c.send(std::string("\x16\x03", 2)));
  std::this_thread::sleep_for(50ms);
  proxy_->stop(100ms);
  proxy_->wait();
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(proxy_->stats().active, 0u);
  proxy_.reset();
}

}  // namespace
}  // namespace fapigate::passthrough
