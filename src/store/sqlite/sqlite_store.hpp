// The embedded store: one SQLite file in WAL mode, synchronous=FULL so a committed token
// survives a crash or kill -9. Schema created and migrated on open (user_version).
// Thread-safe: one connection behind a mutex, prepared statements cached on it; token writes
// (put_token, put_token_async) of a file database go through a group committer with its own
// connection and thread (group_commit.hpp): one fsync per batch, durable before they report.
// Errors: Unavailable (cannot open, read-only, disk full, I/O error, still locked after
// busy_timeout), Conflict (a constraint: duplicate token hash, a token for an unknown client),
// Corrupt (not a database, or a row that does not decode), Internal (anything else).
// Deleting a client deletes its tokens (foreign key, ON DELETE CASCADE).
#pragma once

#include <memory>
#include <string>

#include "store/store.hpp"

namespace fapigate::store {

struct SqliteOptions {
  // Open without write access (no schema creation; the schema must be current). Every write
  // then fails with Unavailable.
  bool read_only = false;
  // How long a statement waits for another process holding the write lock.
  int busy_timeout_ms = 5'000;
};

[[nodiscard]] Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);
[[nodiscard]] Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                               const SqliteOptions& options);

}  // namespace fapigate::store
