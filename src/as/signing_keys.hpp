// The AS's signing keys: loaded from the store once at start (created on first start), the
// newest usable one signs, and every key not yet retired is published in the JWKS. The kid is
// the key's RFC 7638 thumbprint. Immutable after creation; thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "crypto/signature.hpp"
#include "jose/alg.hpp"
#include "jose/jws.hpp"
#include "store/store.hpp"

namespace fapigate::as {

class SigningKeys {
public:
  // Loads the store's keys; when none can sign with `alg`, generates one and stores it.
  [[nodiscard]] static Result<std::shared_ptr<const SigningKeys>> load_or_create(
      store::KeyStore& store, jose::Alg alg, const core::Clock& clock);

  const std::string& current_kid() const { return current_kid_; }
  jose::Alg current_alg() const { return current_alg_; }
  const crypto::Signer& signer() const { return *signer_; }
  // {"keys":[...]} with public members only.
  const std::string& jwks_json() const { return jwks_json_; }
  // Verification of the AS's own tokens (introspection).
  const jose::VerifierSet& verifiers() const { return *verifiers_; }

private:
  std::string current_kid_;
  jose::Alg current_alg_{};
  std::shared_ptr<const crypto::Signer> signer_;
  std::string jwks_json_;
  std::unique_ptr<jose::VerifierSet> verifiers_;
};

}  // namespace fapigate::as
