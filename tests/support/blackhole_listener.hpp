// A loopback listener whose accept queue is full and never drained: the kernel drops further
// SYNs, so a connect to it hangs in SYN-SENT, as with a firewalled or dead upstream host.
// Header-only; used by the HTTP client and gateway fault tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace fapigate::testing {

class BlackholeListener {
public:
  BlackholeListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 0) != 0) {
      return;
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
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
