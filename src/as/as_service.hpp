// The authorization server as an http::Handler: routes a request to its endpoint. The same
// handler serves the front-channel listener and the mTLS alias listener; what differs is
// whether a verified client certificate is present, which client authentication checks.
#pragma once

#include <memory>

#include "config/model.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "http/message.hpp"
#include "store/store.hpp"

namespace fapigate::as {

class AsService : public http::Handler {
public:
  // Loads (or creates) the signing keys and seeds the configured clients into the store.
  [[nodiscard]] static Result<std::shared_ptr<AsService>> create(
      const config::AuthorizationServer& settings, store::Store& store,
      const core::Clock& clock);
};

}  // namespace fapigate::as
