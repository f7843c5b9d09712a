// What every AS endpoint, check and grant works with. Built once in as_service.cpp; read-only
// after that except through the store.
#pragma once

#include <memory>

#include "as/client_cache.hpp"
#include "as/signing_keys.hpp"
#include "config/model.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace fapigate::as {

class Registration;  // endpoints/registration.hpp

struct AsContext {
  config::AuthorizationServer settings;
  store::Store* store = nullptr;
  std::shared_ptr<const SigningKeys> keys;
  const core::Clock* clock = nullptr;
  // Dynamic client registration; null unless settings.registration.enabled.
  std::shared_ptr<const Registration> registration;
  // Registered clients in memory (client_cache.hpp); null: every lookup reads the store.
  std::shared_ptr<ClientCache> clients;

  [[nodiscard]] Result<std::optional<store::ClientRecord>> find_client(
      const std::string& client_id) const {
    return clients ? clients->find(client_id) : store->find_client(client_id);
  }
  // After a write to a client's registration.
  void client_changed(const std::string& client_id) const {
    if (clients) {
      clients->invalidate(client_id);
    }
  }
};

}  // namespace fapigate::as
