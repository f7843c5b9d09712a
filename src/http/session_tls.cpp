// Session over TLS: handshake under the listener's client-certificate mode, then the peer
// certificate view is computed once for the connection.
#include <boost/beast/ssl/ssl_stream.hpp>

#include "core/base64url.hpp"
#include "http/session_impl.hpp"
#include "tls/peer_cert.hpp"

namespace fapigate::http::detail {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <>
std::shared_ptr<const PeerCertificate> Session<TlsStream>::tls_peer_certificate() {
  auto view = tls::peer_certificate(stream_.native_handle());
  if (!view) {
    return view;
  }
  // Once per connection rather than per proxied request (RFC 9440 Client-Cert).
  auto with_base64 = std::make_shared<PeerCertificate>(*view);
  with_base64->der_base64 = core::base64_encode(with_base64->der);
  return with_base64;
}

template <>
std::string Session<TlsStream>::tls_server_name() {
  return tls::server_name(stream_.native_handle());
}

template class Session<TlsStream>;

void start_tls_session(net::ip::tcp::socket socket,
                       std::shared_ptr<const ListenerShared> listener, WorkerLink link) {
  beast::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  std::string remote = ec ? std::string() : endpoint.address().to_string();
  net::ssl::context& ctx = *listener->ssl;
  std::make_shared<Session<TlsStream>>(TlsStream(beast::tcp_stream(std::move(socket)), ctx),
                                       std::move(remote), std::move(listener), std::move(link))
      ->run();
}

}  // namespace fapigate::http::detail
