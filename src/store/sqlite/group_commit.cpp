#include "store/sqlite/group_commit.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/log.hpp"

namespace fapigate::store {
namespace {

namespace log = core::log;

bool ok(int rc) {
  return rc == SQLITE_OK || rc == SQLITE_DONE;
}

class WriterConnection final : public GroupCommitter::Connection {
 public:
  explicit WriterConnection(sqlite3* db) : db_(db) {}
  ~WriterConnection() override {
    for (auto& [sql, stmt] : cache_) {
      sqlite3_finalize(stmt);
    }
    sqlite3_close_v2(db_);
  }
  WriterConnection(const WriterConnection&) = delete;
  WriterConnection& operator=(const WriterConnection&) = delete;

  sqlite3* db() override { return db_; }

  sqlite3_stmt* prepare(const char* sql) override {
    if (auto it = cache_.find(sql); it != cache_.end()) {
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return nullptr;
    }
    cache_.emplace(sql, stmt);
    return stmt;
  }

  // BEGIN / COMMIT / ROLLBACK as cached statements: no SQL parsing per batch.
  int exec_cached(const char* sql) {
    sqlite3_stmt* s = prepare(sql);
    if (!s) {
      return sqlite3_errcode(db_);
    }
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc;
  }

 private:
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

constexpr const char* kBegin = "BEGIN IMMEDIATE";
constexpr const char* kCommit = "COMMIT";
constexpr const char* kRollback = "ROLLBACK";

class GroupCommitterImpl final : public GroupCommitter {
 public:
  GroupCommitterImpl(sqlite3* db, std::string path, GroupCommitOptions options)
      : conn_(db), path_(std::move(path)), options_(options) {
    if (options_.max_batch == 0) {
      options_.max_batch = 1;
    }
    thread_ = std::thread([this] { loop(); });
  }

  ~GroupCommitterImpl() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  void submit(Write write, Done done) override {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(Item{std::move(write), std::move(done)});
    }
    cv_.notify_one();
  }

  int run(Write write) override {
    std::promise<int> result;
    auto future = result.get_future();
    submit(std::move(write), [&result](int rc) { result.set_value(rc); });
    return future.get();
  }

  GroupCommitStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  struct Item {
    Write write;
    Done done;
  };

  void loop() {
    std::vector<Item> batch;
    std::vector<int> results;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
          return;  // stopping, and everything queued has been committed
        }
        // Everything queued while the previous batch was being committed, up to max_batch.
        std::size_t n = std::min(queue_.size(), options_.max_batch);
        batch.clear();
        batch.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      commit_batch(batch, results);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        complete(batch[i], results[i]);
      }
    }
  }

  // Fills results[i] for batch[i]: the write's own code, or the batch's failure.
  void commit_batch(std::vector<Item>& batch, std::vector<int>& results) {
    results.assign(batch.size(), SQLITE_OK);
    int rc = conn_.exec_cached(kBegin);
    if (!ok(rc)) {
      fail_batch(results, rc, "begin", batch.size());
      return;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      int w = run_write(batch[i]);
      results[i] = ok(w) ? SQLITE_OK : w;
      if (!ok(w)) {
        log_error(w, "write");
        if (sqlite3_get_autocommit(conn_.db()) != 0) {
          // SQLite rolled the whole transaction back (I/O error, disk full, ...): the writes
          // before this one are gone too, and the rest never ran.
          fail_batch(results, w, "write", batch.size());
          return;
        }
      }
    }
    rc = conn_.exec_cached(kCommit);
    if (!ok(rc)) {
      conn_.exec_cached(kRollback);  // no-op if the failed COMMIT already ended it
      fail_batch(results, rc, "commit", batch.size());
      return;
    }
    std::lock_guard lock(mu_);
    stats_.writes += batch.size();
    stats_.commits++;
  }

  int run_write(Item& item) {
    try {
      return item.write(conn_);
    } catch (const std::exception& e) {
      log::error("store.exception", {{"op", "group_commit_write"}, {"what", e.what()}});
      return SQLITE_INTERNAL;
    }
  }

  void fail_batch(std::vector<int>& results, int rc, const char* step, std::size_t size) {
    log_error(rc, step);
    log::error("store.batch_failed", {{"step", step}, {"writes", size}, {"path", path_}});
    for (auto& r : results) {
      // A write that failed on its own keeps its own code.
      r = r == SQLITE_OK ? rc : r;
    }
    std::lock_guard lock(mu_);
    stats_.writes += size;
    stats_.failed_batches++;
  }

  void log_error(int rc, const char* step) {
    log::Level level = (rc & 0xff) == SQLITE_CONSTRAINT ? log::Level::Warn : log::Level::Error;
    log::write(level, "store.sqlite_error",
               {{"op", "group_commit"},
                {"step", step},
                {"code", rc},
                {"message", sqlite3_errstr(rc)},
                {"path", path_}});
  }

  static void complete(Item& item, int rc) {
    try {
      item.done(rc);
    } catch (const std::exception& e) {
      // A completion must not take the writer down; its caller's response is lost (the
      // server answers 500 for a dropped responder).
      log::error("store.exception", {{"op", "group_commit_done"}, {"what", e.what()}});
    }
  }

  WriterConnection conn_;
  std::string path_;
  GroupCommitOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // under mu_
  bool stopping_ = false;   // under mu_
  GroupCommitStats stats_;  // under mu_
  std::thread thread_;      // last: started when everything above exists
};

}  // namespace

Result<std::unique_ptr<GroupCommitter>> GroupCommitter::open(const std::string& path,
                                                             GroupCommitOptions options) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (path.rfind("file:", 0) == 0) {
    flags |= SQLITE_OPEN_URI;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close_v2);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
    // The same guarantees as the main connection: these are per connection, not per file.
    rc = sqlite3_exec(db.get(), "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL", nullptr,
                      nullptr, nullptr);
  }
  if (rc != SQLITE_OK) {
    log::error("store.open_failed",
               {{"path", path},
                {"step", "group commit writer"},
                {"code", rc},
                {"message", db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc)}});
    return make_error_code(boost::system::errc::io_error);
  }
  try {
    return std::unique_ptr<GroupCommitter>(
        std::make_unique<GroupCommitterImpl>(db.release(), path, options));
  } catch (const std::exception& e) {
    log::error("store.exception", {{"op", "group_commit_open"}, {"what", e.what()}});
    return make_error_code(boost::system::errc::resource_unavailable_try_again);
  }
}

}  // namespace fapigate::store
