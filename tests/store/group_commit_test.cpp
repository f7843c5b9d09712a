// Group commit (store/sqlite/group_commit.hpp): many writers, one transaction and one fsync per
// batch, and no weaker durability: every write reported done is in the file after a reopen, and
// after a kill -9 of the writing process. Real SQLite files, real threads, a real child process.
#include "store/sqlite/group_commit.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.hpp"

using namespace fapigate;
using namespace fapigate::store;
namespace fs = std::filesystem;

namespace {

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "fapigate-groupcommit-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "fapigate.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<Store> open_store() {
    auto s = open_sqlite_store(path_);
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return s ? std::move(*s) : nullptr;
  }

  // A bare database for the committer alone: `child` rows must name a `parent` row, checked
  // only at COMMIT (a deferred foreign key), so a test can make a whole batch fail to commit.
  void create_bare_db() {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "PRAGMA journal_mode = WAL;"
                           "CREATE TABLE parent (id TEXT PRIMARY KEY);"
                           "CREATE TABLE child (k TEXT PRIMARY KEY, p TEXT NOT NULL REFERENCES "
                           "parent (id) DEFERRABLE INITIALLY DEFERRED);"
                           "INSERT INTO parent VALUES ('p');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }

  // Rows of `child` as a fresh connection sees them.
  std::set<std::string> bare_rows() {
    std::set<std::string> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT k FROM child", -1, &s, nullptr), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
      out.insert(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
  }

  fs::path dir_;
  std::string path_;
};

GroupCommitter::Write insert_child(std::string key, std::string parent = "p") {
  return [key = std::move(key), parent = std::move(parent)](GroupCommitter::Connection& c) {
    sqlite3_stmt* s = c.prepare("INSERT INTO child (k, p) VALUES (?1, ?2)");
    if (!s) {
      return sqlite3_errcode(c.db());
    }
    sqlite3_bind_text(s, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, parent.c_str(), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc;
  };
}

ClientRecord client(const std::string& id) {
  ClientRecord c;
  c.client_id = id;
  c.token_endpoint_auth_method = "tls_client_auth";
  c.tls_client_auth_subject_dn = "CN=" + id;
  c.grant_types = {"client_credentials"};
  return c;
}

TokenRecord token(const std::string& hash, const std::string& client_id = "partner") {
  TokenRecord t;
  t.token_hash = hash;
  t.kind = "access_token";
  t.jti = "jti-" + hash;
  t.client_id = client_id;
  t.subject = client_id;
  t.scope = "accounts";
  t.audience = "https://rs.example";
  t.cnf_x5t_s256 = "x5t-" + hash;
  t.issued_at = 1'000;
  t.expires_at = 4'000'000'000;
  t.grant_id = "g-" + hash;
  return t;
}

TEST_F(GroupCommitTest, ConcurrentWritersShareCommitsAndAllRowsSurviveReopen) {
  create_bare_db();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 60;
  GroupCommitStats stats;
  {
    auto committer = GroupCommitter::open(path_, {});
    ASSERT_TRUE(committer);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          int rc = (*committer)->run(insert_child(std::to_string(t) + "-" + std::to_string(i)));
          if (rc != SQLITE_OK) {
            failures++;
          }
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    EXPECT_EQ(failures.load(), 0);
    stats = (*committer)->stats();
  }
  EXPECT_EQ(stats.writes, std::uint64_t{kThreads * kPerThread});
  EXPECT_EQ(stats.failed_batches, 0u);
  // Eight writers each waiting for their own commit: they must have shared transactions.
  EXPECT_LT(stats.commits, stats.writes);
  EXPECT_EQ(bare_rows().size(), std::size_t{kThreads * kPerThread});
}

TEST_F(GroupCommitTest, FailedCommitIsReportedToEveryCallerOfTheBatch) {
  create_bare_db();
  auto committer = GroupCommitter::open(path_, {});
  ASSERT_TRUE(committer);
  // The first write holds the writer until the next ones are queued, so they form one batch.
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> started;
  std::promise<int> first;
  (*committer)
      ->submit(
          [&started, released, w = insert_child("first")](GroupCommitter::Connection& c) {
            started.set_value();
            released.wait();
            return w(c);
          },
          [&first](int rc) { first.set_value(rc); });
  started.get_future().wait();
  constexpr int kBatch = 5;
  std::vector<std::promise<int>> results(kBatch);
  for (int i = 0; i < kBatch; ++i) {
    // The third names a parent that does not exist: the deferred check fails the COMMIT.
    (*committer)
        ->submit(insert_child("b" + std::to_string(i), i == 2 ? "nobody" : "p"),
                 [&results, i](int rc) { results[i].set_value(rc); });
  }
  release.set_value();
  EXPECT_EQ(first.get_future().get(), SQLITE_OK);
  for (int i = 0; i < kBatch; ++i) {
    EXPECT_EQ(results[i].get_future().get() & 0xff, SQLITE_CONSTRAINT) << "write " << i;
  }
  EXPECT_EQ((*committer)->stats().failed_batches, 1u);
  // The failed batch left nothing; the writer goes on with the next one.
  EXPECT_EQ((*committer)->run(insert_child("after")), SQLITE_OK);
  EXPECT_EQ(bare_rows(), (std::set<std::string>{"first", "after"}));
}

TEST_F(GroupCommitTest, AFailingWriteFailsOnlyItsOwnCaller) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_client(client("partner")));
  ASSERT_TRUE(store->put_token(token("dup")));
  constexpr int kThreads = 6;
  std::vector<Result<void>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Thread 0 repeats a hash (primary key), thread 1 names an unknown client (foreign key).
      TokenRecord rec = t == 0   ? token("dup")
                        : t == 1 ? token("orphan", "nobody")
                                 : token("ok" + std::to_string(t));
      results[t] = store->put_token(rec);
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  ASSERT_FALSE(results[0]);
  EXPECT_EQ(results[0].error(), make_error_code(StoreErrc::Conflict));
  ASSERT_FALSE(results[1]);
  EXPECT_EQ(results[1].error(), make_error_code(StoreErrc::Conflict));
  for (int t = 2; t < kThreads; ++t) {
    EXPECT_TRUE(results[t]) << "thread " << t;
  }
  store.reset();
  store = open_store();
  for (int t = 2; t < kThreads; ++t) {
    auto found = store->find_token("ok" + std::to_string(t));
    ASSERT_TRUE(found && *found) << "thread " << t;
  }
  auto orphan = store->find_token("orphan");
  ASSERT_TRUE(orphan);
  EXPECT_FALSE(*orphan);
}

TEST_F(GroupCommitTest, AsyncPutCompletesOnlyOnceDurableAndCloseDrainsTheQueue) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->put_client(client("partner")));
  constexpr int kWrites = 200;
  std::atomic<int> ok{0};
  std::atomic<int> seen_by_other_connection{0};
  for (int i = 0; i < kWrites; ++i) {
    std::string hash = "async" + std::to_string(i);
    store->put_token_async(token(hash), [&, i, hash](Result<void> r) {
      if (!r) {
        return;
      }
      ok++;
      // Durable means committed: a separate connection sees the row already.
      if (i % 50 == 0) {
        sqlite3* db = nullptr;
        sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(db, "SELECT 1 FROM tokens WHERE token_hash = ?1", -1, &s, nullptr);
        sqlite3_bind_text(s, 1, hash.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) == SQLITE_ROW) {
          seen_by_other_connection++;
        }
        sqlite3_finalize(s);
        sqlite3_close(db);
      }
    });
  }
  // Closing right away: every queued write is committed and completed first.
  store.reset();
  EXPECT_EQ(ok.load(), kWrites);
  EXPECT_EQ(seen_by_other_connection.load(), kWrites / 50);
  store = open_store();
  for (int i = 0; i < kWrites; ++i) {
    auto found = store->find_token("async" + std::to_string(i));
    ASSERT_TRUE(found && *found) << i;
  }
}

// The guarantee that matters: a row whose put_token returned is in the file even when the
// process dies by SIGKILL mid-stream, with batches in flight. The child reports each hash
// through a pipe only after put_token returned; the parent kills it and reopens the file.
TEST_F(GroupCommitTest, EveryReturnedPutSurvivesKill9WithBatchesInFlight) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto r = open_sqlite_store(path_);
    if (!r || !(*r)->put_client(client("partner"))) {
      ::_exit(1);
    }
    Store& store = **r;
    std::mutex pipe_mu;
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0;; ++i) {
          std::string hash = "k" + std::to_string(t) + "-" + std::to_string(i);
          if (!store.put_token(token(hash))) {
            ::_exit(3);
          }
          std::string line = hash + "\n";
          std::lock_guard lock(pipe_mu);
          if (::write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            ::_exit(4);
          }
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    ::_exit(2);
  }
  ::close(fds[1]);
  std::vector<std::string> acknowledged;
  std::string pending;
  char buf[4096];
  while (acknowledged.size() < 400) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    ASSERT_GT(n, 0) << "the child stopped early";
    pending.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      acknowledged.push_back(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  // Hashes acknowledged after the last full read are in the pipe still: read them too.
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
    pending.append(buf, static_cast<std::size_t>(n));
  }
  for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
    acknowledged.push_back(pending.substr(0, nl));
    pending.erase(0, nl + 1);
  }
  ::close(fds[0]);

  auto store = open_store();
  ASSERT_TRUE(store);
  for (const auto& hash : acknowledged) {
    auto found = store->find_token(hash);
    ASSERT_TRUE(found && *found) << hash << " was acknowledged but is not in the store";
  }
}

}  // namespace
