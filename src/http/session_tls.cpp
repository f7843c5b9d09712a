// Session over TLS: handshake under the listener's client-certificate mode, then the peer
// certificate view is computed once for the connection.
#include "core/base64url.hpp"
#include "http/session_impl.hpp"
#include "http/tls_server_stream.hpp"
#include "tls/peer_cert.hpp"

namespace fapigate::http::detail {

// Not asio::ssl::stream: see tls_server_stream.hpp for why.
using TlsStream = TlsServerStream;

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
  // The SSL made from it holds its own reference: a reload may drop the context right after.
  const auto ctx = listener->tls_context();
  std::make_shared<Session<TlsStream>>(TlsStream(std::move(socket), ctx->native_handle()),
                                       std::move(remote), std::move(listener), std::move(link))
      ->run();
}

}  // namespace fapigate::http::detail
