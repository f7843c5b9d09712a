// Internal to http/*.cpp: a watch for a socket's next readable edge, so that a read wait on
// the socket needs no epoll_ctl.
//
// Why: Asio registers a socket with epoll once, edge-triggered. A read wait (async_wait) that
// finds no other read operation queued must assume an edge went by unseen while nothing was
// waiting, so it re-arms the descriptor with epoll_ctl(EPOLL_CTL_MOD): one system call per
// wait, which on a keep-alive connection is one per request (measured: 1.0 of the gateway's
// 6.35 system calls per proxied request). nginx avoids it by remembering whether the socket
// has been drained since its last event; this is the same idea in Asio's terms.
//
// The caller starts a watch at the moment it has seen the receive queue empty — recv()
// returned EAGAIN or fewer bytes than asked — with no turn of the event loop in between. From
// then on every new byte (or FIN, or error) raises an edge that reaches the queued watch, so a
// read wait started later queues behind the watch without re-arming (Asio skips the epoll_ctl
// when a read operation is already queued) and is woken by the same edge. When the edge comes
// the watch ends (watching() goes false) and the next wait re-arms as usual until the caller
// next sees the queue empty.
//
// Requirements: the socket's io_context is run by one thread (the watch's state is not
// locked). Where the Asio internals this relies on are not the ones it was written against
// (Boost 1.81, epoll reactor), start() returns false and every wait re-arms, which is always
// correct.
#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>

namespace fapigate::http::detail {

// One socket's drain watch. Held by the socket's owner; it must live as long as the socket is
// open (a queued watch writes to it when the edge comes).
class DrainWatch {
public:
  // True while a watch is queued: nothing has arrived since the socket was seen empty.
  bool watching() const { return watching_; }

  // Starts a watch unless one is queued. A cancelled watch clears watching() only while
  // `owner` is alive. False if no watch could be queued (socket closed, unsupported reactor).
  bool start(boost::asio::ip::tcp::socket& socket, std::weak_ptr<const void> owner);

private:
  bool watching_ = false;
  // The socket's reactor and scheduler (Asio services), looked up at the first watch: the
  // lookup takes a lock and walks a list, too much for every request.
  void* reactor_ = nullptr;
  void* scheduler_ = nullptr;
};

}  // namespace fapigate::http::detail
