#include "http/drain_watch.hpp"

#include <utility>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/version.hpp>

// Asio's reactor internals: the operation type and start_op() that every socket operation goes
// through. Checked against Boost 1.81's epoll_reactor; elsewhere the watch is not used.
#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) && !defined(BOOST_ASIO_HAS_IOCP)
#define FAPIGATE_DRAIN_WATCH 1
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/scheduler.hpp>
#endif

namespace fapigate::http::detail {

#if defined(FAPIGATE_DRAIN_WATCH)

namespace {

namespace net = boost::asio;
using Reactor = net::detail::epoll_reactor;
using tcp = net::ip::tcp;

// The socket's reactor state (descriptor and per-descriptor data), reached through a pointer to
// its protected member: the standard way for a derived class to name it, with no object of the
// derived type ever made.
struct SocketInternals : tcp::socket {
  static auto& implementation(tcp::socket& s) {
    return (s.*(&SocketInternals::impl_)).get_implementation();
  }
};

class DrainWatchOp final : public net::detail::reactor_op {
public:
  DrainWatchOp(bool& watching, std::weak_ptr<const void> owner, net::detail::scheduler& scheduler)
      : reactor_op(boost::system::error_code(), &DrainWatchOp::perform, &DrainWatchOp::complete),
        watching_(watching),
        owner_(std::move(owner)),
        scheduler_(scheduler) {}

  static DrainWatchOp* make(bool& watching, std::weak_ptr<const void> owner,
                            net::detail::scheduler& scheduler) {
    Alloc alloc;
    return new (alloc.allocate(1)) DrainWatchOp(watching, std::move(owner), scheduler);
  }

  // Inside start_op Asio first tries the operation at once ("speculatively"); the caller has
  // just seen the queue empty, so that attempt is answered not-done without a system call.
  bool starting = true;

private:
  using Alloc = net::recycling_allocator<DrainWatchOp>;

  static status perform(reactor_op* base) {
    auto* op = static_cast<DrainWatchOp*>(base);
    if (op->starting) {
      return not_done;
    }
    // Called by the reactor only while the socket is registered, so its owner is alive.
    op->watching_ = false;
    return done;
  }

  // After the edge (nothing left to do) or a cancellation (the socket's operations aborted:
  // the watch is gone, so the next wait must re-arm). `owner` is null when the io_context is
  // destroyed with the watch queued.
  static void complete(void* owner, net::detail::operation* base,
                       const boost::system::error_code& /*ec*/, std::size_t /*bytes*/) {
    auto* op = static_cast<DrainWatchOp*>(base);
    if (owner != nullptr) {
      // The scheduler ends one unit of work after every completion: this op's was given back
      // when it was queued (DrainWatch::start).
      op->scheduler_.work_started();
      if (op->ec_) {
        if (auto alive = op->owner_.lock()) {
          op->watching_ = false;
        }
      }
    }
    op->~DrainWatchOp();
    Alloc().deallocate(op, 1);
  }

  bool& watching_;
  std::weak_ptr<const void> owner_;
  net::detail::scheduler& scheduler_;
};

}  // namespace

bool DrainWatch::start(tcp::socket& socket, std::weak_ptr<const void> owner) {
  if (watching_) {
    return true;
  }
  if (!socket.is_open()) {
    return false;
  }
  if (reactor_ == nullptr) {
    net::execution_context& ctx = net::query(socket.get_executor(), net::execution::context);
    reactor_ = &net::use_service<Reactor>(ctx);
    scheduler_ = &net::use_service<net::detail::scheduler>(ctx);
  }
  auto& reactor = *static_cast<Reactor*>(reactor_);
  auto& scheduler = *static_cast<net::detail::scheduler*>(scheduler_);
  auto& impl = SocketInternals::implementation(socket);
  DrainWatchOp* op = DrainWatchOp::make(watching_, std::move(owner), scheduler);
  reactor.start_op(Reactor::read_op, impl.socket_, impl.reactor_data_, op,
                   /*is_continuation=*/false, /*allow_speculative=*/true);
  // Queued (or, on a descriptor being torn down, posted to complete): either way not run yet,
  // since only this thread runs the io_context.
  op->starting = false;
  // A queued watch is not work: an idle pooled connection must not keep a stopping worker's
  // io_context running, as it did not before it had a watch. Inside a handler (the only place
  // this runs) the count cannot reach zero here: the running handler is still counted.
  scheduler.work_finished();
  watching_ = true;
  return true;
}

#else

bool DrainWatch::start(boost::asio::ip::tcp::socket&, std::weak_ptr<const void>) {
  return false;
}

#endif

}  // namespace fapigate::http::detail
