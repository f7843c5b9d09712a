// Session over plain TCP (demo API, health/metrics listeners).
#include "http/session_impl.hpp"

namespace fapigate::http::detail {

template class Session<beast::tcp_stream>;

void start_plain_session(net::ip::tcp::socket socket,
                         std::shared_ptr<const ListenerShared> listener, WorkerLink link) {
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  std::string remote = ec ? std::string() : endpoint.address().to_string();
  std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)),
                                               std::move(remote), std::move(listener),
                                               std::move(link))
      ->run();
}

}  // namespace fapigate::http::detail
