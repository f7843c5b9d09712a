// The demo's PKI and keys under DIR: a CA, the loopback server certificate, the two partners'
// client certificates and the gateway test signing key. Existing files are reused, so a demo
// directory keeps its identities across restarts.
#pragma once

#include <string>

#include "core/result.hpp"

namespace fapigate::cli {

struct DemoPki {
  std::string ca_cert, ca_key;
  std::string server_cert, server_key;
  std::string partner_cert, partner_key;
  std::string other_partner_cert, other_partner_key;
  std::string partner_subject_dn, other_partner_subject_dn;
};

// Creates DIR/pki/* as needed. Paths in the result are absolute.
[[nodiscard]] Result<DemoPki> ensure_pki(const std::string& dir);

// DIR/keys/gateway-test-key.jwk.json: a private ES256 JWK with kid and alg (created if missing);
// returns its absolute path.
[[nodiscard]] Result<std::string> ensure_gateway_test_key(const std::string& dir);

}  // namespace fapigate::cli
