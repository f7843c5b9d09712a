// Raw loopback TCP sockets for tests that play a misbehaving peer (a stalled upstream, a host
// that drops SYNs, a handshake that never comes). Header-only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace fapigate::testing {

// A socket listening on 127.0.0.1 at a free port (written to *port); -1 on failure.
inline int listen_loopback(std::uint16_t* port, int backlog = 64) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, backlog) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

// A blocking connection to 127.0.0.1:port; -1 on failure.
inline int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  return fd;
}

// A loopback listener whose accept queue is full and never drained: the kernel drops further
// SYNs, so a connect to it hangs in SYN-SENT, as with a firewalled or dead upstream host.
class BlackholeListener {
public:
  BlackholeListener() {
    fd_ = listen_loopback(&port, 0);
    if (fd_ < 0) {
      return;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // Fill the queue: connections that complete go into it; the first that does not shows the
    // queue is full.
    for (int i = 0; i < 8; ++i) {
      int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      fillers_.push_back(c);
      ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      pollfd p{c, POLLOUT, 0};
      if (::poll(&p, 1, 200) == 0) {
        full = true;
        break;
      }
    }
  }
  ~BlackholeListener() {
    for (int c : fillers_) {
      ::close(c);
    }
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  BlackholeListener(const BlackholeListener&) = delete;
  BlackholeListener& operator=(const BlackholeListener&) = delete;

  std::uint16_t port = 0;
  bool full = false;  // a connect attempt was seen to hang

private:
  int fd_ = -1;
  std::vector<int> fillers_;
};

}  // namespace fapigate::testing
