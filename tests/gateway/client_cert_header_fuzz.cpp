// libFuzzer target: the RFC 9440 Client-Cert header a trusted TLS-terminating proxy sends
// (gw::parse_client_cert_header). Invariants: values over kMaxClientCertHeader are refused, an
// accepted value is exactly one RFC 8941 §3.3.5 byte sequence whose base64 is canonical (one
// certificate, one header spelling), the view's thumbprint is RFC 8705 §3.1's over that DER,
// and re-encoding it with the gateway's own client_cert_header_value gives back the value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/base64url.hpp"
#include "crypto/digest.hpp"
#include "gateway/client_cert_header.hpp"
#include "gateway/upstream_proxy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace gw = fapigate::gw;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = gw::parse_client_cert_header(in);
  if (!r) {
    return 0;
  }
  const auto& cert = **r;
  if (in.size() > gw::kMaxClientCertHeader || cert.der.empty() || !cert.chain_verified) {
    std::abort();
  }
  if (cert.x5t_s256 != fapigate::crypto::sha256_b64url(cert.der)) {
    std::abort();
  }
  std::string_view v = in;
  while (!v.empty() && v.front() == ' ')
    v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ')
    v.remove_suffix(1);
  if (gw::client_cert_header_value(cert.der) != v) {
    std::abort();  // a second spelling of the same certificate was accepted
  }
  if (fapigate::core::base64_encode(cert.der) != v.substr(1, v.size() - 2)) {
    std::abort();
  }
  auto again = gw::parse_client_cert_header(gw::client_cert_header_value(cert.der));
  if (!again || (*again)->x5t_s256 != cert.x5t_s256) {
    std::abort();
  }
  return 0;
}
