#include "gateway/sender_constraint.hpp"

#include "crypto/digest.hpp"

namespace fapigate::gw {

std::optional<GwErrc> check_sender_constraint(const VerifiedToken& token,
                                              const http::PeerCertificate* certificate,
                                              config::SenderConstraint required) {
  if (!token.has_cnf) {
    if (required == config::SenderConstraint::Mtls) {
      return GwErrc::CnfMissing;
    }
    return std::nullopt;
  }
  if (token.cnf_x5t_s256.empty()) {
    // A cnf this gateway cannot check (e.g. jkt without DPoP support) is never ignored.
    return GwErrc::CnfMismatch;
  }
  // RFC 8705 §3: only a certificate that chained to the gateway's client CA counts. The TLS
  // layer never gives the gateway another (config refuses required_any there); this is the
  // backstop should one ever arrive.
  if (!certificate || !certificate->chain_verified) {
    return GwErrc::CertificateMissing;
  }
  if (!crypto::constant_time_equal(token.cnf_x5t_s256, certificate->x5t_s256)) {
    return GwErrc::CnfMismatch;
  }
  return std::nullopt;
}

}  // namespace fapigate::gw
