// Group commit for the SQLite store: writes that must be durable before their caller goes on
// (an issued token, RFC 6749 §10 / store.hpp: "a client never holds a token the store forgot")
// are queued to one writer thread, which commits everything queued so far in ONE transaction,
// so one fsync (WAL, synchronous=FULL) makes a whole batch durable instead of one per row.
//
// Why a thread of its own, on a connection of its own:
//  - An fsync takes milliseconds on ordinary disks (about 3 ms on the project VM). With one
//    io_context thread serving many keep-alive connections, a synchronous commit on that thread
//    stalls every connection; here the caller either hands over a completion (submit(): the
//    io thread goes on serving others and the response is sent from the completion) or blocks
//    only itself (run(): for callers that are not asynchronous).
//  - Batching comes from the disk itself, with no timer: while the writer waits for one fsync,
//    new writes queue up and all of them go into the next transaction. A lone writer pays one
//    fsync as before; under load the cost per write falls with the batch size.
//  - The writer has its own sqlite3 connection, so readers on the store's main connection (the
//    client lookup on every token request) never wait for an fsync: in WAL mode they read the
//    last committed snapshot while the writer commits. Writes on the main connection still
//    serialize with the writer through SQLite's write lock (busy_timeout).
//
// Durability is unchanged: a completion reports success only after COMMIT has returned, and
// with synchronous=FULL COMMIT returns after the WAL is fsynced, so a write reported done
// survives a crash or kill -9. What is lost on a crash is only writes not yet reported.
//
// Failures: a write that fails on its own (a constraint: SQLite undoes just that statement and
// the transaction goes on) fails only its own caller. A failure that ends the transaction (the
// COMMIT fails, or a statement error makes SQLite roll the whole transaction back: disk full,
// I/O error) is reported to every caller of that batch, none of whose rows is then in the store.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.hpp"

namespace fapigate::store {

struct GroupCommitOptions {
  int busy_timeout_ms = 5'000;
  // Upper bound of writes per transaction, so that one batch cannot hold the write lock long.
  std::size_t max_batch = 512;
};

struct GroupCommitStats {
  std::uint64_t writes = 0;   // writes attempted
  std::uint64_t commits = 0;  // transactions committed (one fsync each)
  std::uint64_t failed_batches = 0;
};

class GroupCommitter {
 public:
  // The writer's view of its connection: statements prepared once and cached by their SQL text
  // address (pass string literals or strings that outlive the committer).
  class Connection {
   public:
    virtual ~Connection() = default;
    virtual sqlite3* db() = 0;
    // nullptr on failure (the SQLite error stays readable on db()).
    virtual sqlite3_stmt* prepare(const char* sql) = 0;
  };

  // Runs on the writer thread inside the open transaction. Returns an SQLite result code:
  // SQLITE_OK or SQLITE_DONE for success. Must reset the statements it used (sqlite3_reset).
  // A write must leave nothing behind when it fails: one statement, or its own SAVEPOINT.
  using Write = std::function<int(Connection&)>;
  // Runs on the writer thread after the commit (or failure) with the write's SQLite result
  // code (SQLITE_OK once durable). Must be quick and must not wait on this committer.
  using Done = std::function<void(int rc)>;

  // Opens the writer connection to the database file at `path` (which must exist with its
  // schema, in WAL mode) and starts the writer thread.
  [[nodiscard]] static Result<std::unique_ptr<GroupCommitter>> open(const std::string& path,
                                                                    GroupCommitOptions options);

  // Commits what is still queued, then stops the writer thread.
  virtual ~GroupCommitter() = default;

  // Queues a write; `done` is called exactly once, from the writer thread.
  virtual void submit(Write write, Done done) = 0;
  // Queues a write and waits for it: returns its SQLite result code (SQLITE_OK once durable).
  [[nodiscard]] virtual int run(Write write) = 0;

  virtual GroupCommitStats stats() const = 0;
};

}  // namespace fapigate::store
