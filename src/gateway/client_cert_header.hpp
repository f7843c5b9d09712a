// RFC 9440 Client-Cert from a TLS-terminating proxy: an RFC 8941 §3.3.5 byte sequence
// ":base64(DER):" without parameters. Believed only from a trusted proxy (the caller decides);
// the proxy verified the chain, so the view is marked chain_verified (RFC 9440 §2.2).
// Bounded: values over kMaxClientCertHeader bytes are refused before decoding.
#pragma once

#include <memory>
#include <string_view>

#include "core/result.hpp"
#include "http/message.hpp"

namespace fapigate::gw {

inline constexpr std::size_t kMaxClientCertHeader = 16 * 1024;

// GwErrc::ClientCertInvalid for any malformed value (not a byte sequence, parameters, bad
// base64, not one DER certificate).
[[nodiscard]] Result<std::shared_ptr<const http::PeerCertificate>> parse_client_cert_header(
    std::string_view value);

}  // namespace fapigate::gw
