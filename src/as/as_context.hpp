// What every AS endpoint, check and grant works with. Built once in as_service.cpp; read-only
// after that except through the store.
#pragma once

#include <memory>

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
};

}  // namespace fapigate::as
