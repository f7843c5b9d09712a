// Loopback helpers for the http/ tests: a server fixture, a handler from a lambda, and a raw
// blocking socket to send what no well-behaved client would.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "http/server.hpp"

namespace fapigate::http::testing {

class FnHandler : public Handler {
public:
  using Fn = std::function<void(Request, Responder)>;
  explicit FnHandler(Fn fn) : fn_(std::move(fn)) {}
  void handle(Request request, Responder respond) override { fn_(std::move(request), respond); }

private:
  Fn fn_;
};

inline std::shared_ptr<Handler> handler(FnHandler::Fn fn) {
  return std::make_shared<FnHandler>(std::move(fn));
}

inline std::shared_ptr<Handler> echo_handler() {
  return handler([](Request r, Responder respond) {
    Response res = Response::text(200, r.method + " " + r.path + "?" + r.query + " " + r.body);
    res.headers.add("X-Remote", r.remote_address);
    respond(std::move(res));
  });
}

struct TestServer {
  std::unique_ptr<Server> server;
  std::uint16_t port = 0;

  static TestServer start(std::shared_ptr<Handler> h, config::Limits limits = {},
                          std::optional<config::Tls> tls = std::nullopt,
                          std::uint32_t threads = 2) {
    ServerOptions options;
    options.threads = threads;
    options.limits = limits;
    ListenerSpec spec;
    spec.name = "test";
    spec.listener.address = "127.0.0.1";
    spec.listener.port = 0;
    spec.listener.tls = std::move(tls);
    spec.handler = std::move(h);
    options.listeners.push_back(std::move(spec));
    auto created = Server::create(std::move(options));
    EXPECT_TRUE(created.has_value());
    TestServer t;
    if (created) {
      t.server = std::move(*created);
      t.port = t.server->bound_port("test");
      t.server->start();
    }
    return t;
  }

  ~TestServer() {
    if (server) {
      server->stop(std::chrono::milliseconds(0));
      server->wait();
    }
  }
  TestServer() = default;
  TestServer(TestServer&&) = default;
};

// A blocking TCP connection with a receive timeout.
class RawConnection {
public:
  explicit RawConnection(std::uint16_t port, int timeout_ms = 5000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response (headers + Content-Length body); empty if the peer closed or timed out first.
  std::string read_response() {
    std::string out;
    std::size_t header_end = std::string::npos;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return {};
      }
    }
    std::size_t length = 0;
    const std::string head = lower(pending_.substr(0, header_end));
    const auto cl = head.find("content-length:");
    if (cl != std::string::npos) {
      length = std::stoul(head.substr(cl + 15));
    }
    const std::size_t total = header_end + 4 + length;
    while (pending_.size() < total) {
      if (!fill()) {
        return {};
      }
    }
    out = pending_.substr(0, total);
    pending_.erase(0, total);
    return out;
  }

  // Only the status line and header fields (for HEAD).
  std::string read_head() {
    std::size_t header_end = std::string::npos;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return {};
      }
    }
    std::string out = pending_.substr(0, header_end + 4);
    pending_.erase(0, header_end + 4);
    return out;
  }

  // True when the peer closes (EOF or reset) within the receive timeout.
  bool closed_by_peer() {
    char buf[512];
    for (;;) {
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) {
        return true;
      }
      if (n < 0) {
        return errno == ECONNRESET;
      }
    }
  }

  static std::string lower(std::string s) {
    for (auto& c : s) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
  }

private:
  bool fill() {
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      return false;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

inline int status_of(const std::string& response) {
  if (response.size() < 12) {
    return 0;
  }
  return std::stoi(response.substr(9, 3));
}

inline std::string body_of(const std::string& response) {
  const auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? std::string() : response.substr(p + 4);
}

inline bool has_header(const std::string& response, std::string_view line) {
  return RawConnection::lower(response).find(RawConnection::lower(std::string(line))) !=
         std::string::npos;
}

// A port nothing listens on (bound, then released).
inline std::uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace fapigate::http::testing
