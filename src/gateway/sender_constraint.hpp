// RFC 8705 §3: a certificate-bound token is accepted only with the certificate it is bound to.
// A bound token is checked on every route (binding is a property of the token); a route that
// requires sender constraint (the FAPI default) also refuses tokens with no cnf at all.
#pragma once

#include <optional>

#include "config/model.hpp"
#include "gateway/gw_errc.hpp"
#include "gateway/verified_token.hpp"
#include "http/message.hpp"

namespace fapigate::gw {

std::optional<GwErrc> check_sender_constraint(const VerifiedToken& token,
                                              const http::PeerCertificate* certificate,
                                              config::SenderConstraint required);

}  // namespace fapigate::gw
