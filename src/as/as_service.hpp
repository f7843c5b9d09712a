// The authorization server as an http::Handler: routes a request to its endpoint. The same
// handler serves the front-channel listener and the mTLS alias listener; what differs is
// whether a verified client certificate is present, which client authentication checks.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/model.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"
#include "http/message.hpp"
#include "store/store.hpp"

namespace fapigate::as {

class AsService : public http::Handler {
public:
  // Loads (or creates) the signing keys and seeds the configured clients into the store.
  // `metrics` receives the AS series (as_metrics.hpp); null keeps them private.
  // `kek_env` is FAPIGATE_KEK as the caller read it (the key-encryption key when
  // settings.key_encryption_key_file is empty); see load_key_encryption_key.
  [[nodiscard]] static Result<std::shared_ptr<AsService>> create(
      const config::AuthorizationServer& settings, store::Store& store,
      const core::Clock& clock, core::metrics::Registry* metrics = nullptr,
      const std::optional<std::string>& kek_env = std::nullopt);
};

}  // namespace fapigate::as
