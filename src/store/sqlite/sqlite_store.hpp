// The embedded store: one SQLite file in WAL mode, synchronous=FULL so a committed token
// survives a crash or kill -9. Schema created and migrated on open (user_version).
#pragma once

#include <memory>
#include <string>

#include "store/store.hpp"

namespace fapigate::store {

[[nodiscard]] Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace fapigate::store
