#include "gateway/client_cert_header.hpp"

#include "core/base64url.hpp"
#include "crypto/x509.hpp"
#include "gateway/gw_errc.hpp"

namespace fapigate::gw {
namespace {

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

}  // namespace

Result<std::shared_ptr<const http::PeerCertificate>> parse_client_cert_header(
    std::string_view v) {
  const ErrorCode invalid = make_error_code(GwErrc::ClientCertInvalid);
  if (v.size() > kMaxClientCertHeader) {
    return invalid;
  }
  // RFC 8941 §4.2: leading and trailing SP are discarded, nothing else is.
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  // RFC 9440 §2.2: Client-Cert = sf-binary; a parameter or a list is no certificate.
  if (v.size() < 3 || v.front() != ':' || v.back() != ':') {
    return invalid;
  }
  std::string_view b64 = v.substr(1, v.size() - 2);
  for (char c : b64) {
    if (!is_base64_char(c)) {
      return invalid;
    }
  }
  auto der = core::base64_decode(b64);
  if (!der || der->empty()) {
    return invalid;
  }
  auto cert = crypto::parse_certificate_der(*der);
  if (!cert) {
    return invalid;
  }
  auto p = std::make_shared<http::PeerCertificate>();
  p->x5t_s256 = crypto::x5t_s256(cert->der);
  p->subject_dn = std::move(cert->subject_dn);
  p->issuer_dn = std::move(cert->issuer_dn);
  p->san_dns = std::move(cert->san_dns);
  p->san_uri = std::move(cert->san_uri);
  p->san_ip = std::move(cert->san_ip);
  p->san_email = std::move(cert->san_email);
  p->not_before = cert->not_before;
  p->not_after = cert->not_after;
  p->der = std::move(cert->der);
  // RFC 9440 §2.2/§4: the trusted proxy validated the chain before vouching for it.
  p->chain_verified = true;
  return std::shared_ptr<const http::PeerCertificate>(std::move(p));
}

}  // namespace fapigate::gw
