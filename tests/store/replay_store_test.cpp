// ReplayStore on SQLite: first-seen semantics, expiry, durability across a reopen (a restart),
// atomicity under concurrent callers, purge, and the 1 -> 2 schema migration that adds it.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_store.hpp"

using namespace fapigate;
using namespace fapigate::store;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;

class ReplayStoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "fapigate-replay-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "fapigate.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<Store> open() {
    auto s = open_sqlite_store(path_);
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return s ? std::move(*s) : nullptr;
  }
  // Runs SQL on the file directly, as another program (or an older build) would.
  void exec_sql(const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  // Drops every table a later migration created (replay_cache and whatever followed it), so
  // that the file looks like one written by a version-1 build whatever the current version.
  void drop_tables_after_version_one() {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    std::vector<std::string> later;
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT name FROM sqlite_master WHERE type = 'table' AND name "
                                 "NOT IN ('clients', 'signing_keys', 'tokens') AND name NOT "
                                 "LIKE 'sqlite_%'",
                                 -1, &st, nullptr),
              SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
      later.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    ASSERT_FALSE(later.empty());
    for (const auto& t : later) {
      exec_sql(("DROP TABLE \"" + t + "\";").c_str());
    }
  }
  std::int64_t count_rows() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    std::int64_t n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM replay_cache", -1, &st, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }

  fs::path dir_;
  std::string path_;
};

bool first_seen(Store& s, const std::string& key, std::int64_t exp, std::int64_t now) {
  auto r = s.remember_once(key, exp, now);
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  return r && *r;
}

TEST_F(ReplayStoreTest, FirstUseIsNewSecondIsReplay) {
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(first_seen(*s, "k1", kNow + 60, kNow));
  EXPECT_FALSE(first_seen(*s, "k1", kNow + 60, kNow));
  EXPECT_FALSE(first_seen(*s, "k1", kNow + 600, kNow + 30));  // a later exp changes nothing
  EXPECT_TRUE(first_seen(*s, "k2", kNow + 60, kNow));
}

TEST_F(ReplayStoreTest, KeysAreExactBytesNotPrefixesOrCaseFolded) {
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(first_seen(*s, "abc", kNow + 60, kNow));
  EXPECT_TRUE(first_seen(*s, "ABC", kNow + 60, kNow));
  EXPECT_TRUE(first_seen(*s, "ab", kNow + 60, kNow));
  EXPECT_TRUE(first_seen(*s, std::string("abc\0x", 5), kNow + 60, kNow));
  EXPECT_FALSE(first_seen(*s, std::string("abc\0x", 5), kNow + 60, kNow));
}

TEST_F(ReplayStoreTest, StillAReplayUntilTheEntryExpires) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(first_seen(*s, "k", kNow + 60, kNow));
  EXPECT_FALSE(first_seen(*s, "k", kNow + 200, kNow + 60));  // expires_at itself is still live
  EXPECT_TRUE(first_seen(*s, "k", kNow + 200, kNow + 61));   // expired: usable again
  EXPECT_FALSE(first_seen(*s, "k", kNow + 300, kNow + 100));  // and remembered anew
}

TEST_F(ReplayStoreTest, SurvivesReopen) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(first_seen(*s, "assertion-jti", kNow + 300, kNow));
  }
  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_FALSE(first_seen(*s, "assertion-jti", kNow + 300, kNow + 1));
}

TEST_F(ReplayStoreTest, PurgeRemovesOnlyExpiredEntries) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(first_seen(*s, "old", kNow + 10, kNow));
  ASSERT_TRUE(first_seen(*s, "live", kNow + 100, kNow));
  auto n = s->purge_replay(kNow + 50);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(count_rows(), 1);
  EXPECT_FALSE(first_seen(*s, "live", kNow + 100, kNow + 50));
  n = s->purge_replay(kNow + 50);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
}

TEST_F(ReplayStoreTest, ManyCallsPurgeExpiredEntriesOnTheirOwn) {
  auto s = open();
  ASSERT_TRUE(s);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(first_seen(*s, "early" + std::to_string(i), kNow + 1, kNow));
  }
  // Later calls, after those expired: the periodic purge drops them without purge_replay().
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(first_seen(*s, "late" + std::to_string(i), kNow + 1000, kNow + 10));
  }
  EXPECT_EQ(count_rows(), 300);
}

TEST_F(ReplayStoreTest, ConcurrentCallersGetExactlyOneFirstUse) {
  auto s = open();
  ASSERT_TRUE(s);
  constexpr int kThreads = 4;
  constexpr int kKeys = 50;
  std::atomic<int> firsts{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < kKeys; ++k) {
        auto r = s->remember_once("k" + std::to_string(k), kNow + 60, kNow);
        if (!r) {
          ++errors;
        } else if (*r) {
          ++firsts;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(firsts.load(), kKeys);
}

TEST_F(ReplayStoreTest, VersionOneDatabaseIsMigrated) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ClientRecord c;
    c.client_id = "partner";
    c.token_endpoint_auth_method = "tls_client_auth";
    ASSERT_TRUE(s->put_client(c));
  }
  // What a build from before the replay table left behind: only the version-1 tables.
  drop_tables_after_version_one();
  exec_sql("PRAGMA user_version = 1;");
  auto s = open();
  ASSERT_TRUE(s);
  auto c = s->find_client("partner");
  ASSERT_TRUE(c && *c);  // existing rows kept
  EXPECT_TRUE(first_seen(*s, "k", kNow + 60, kNow));
  EXPECT_FALSE(first_seen(*s, "k", kNow + 60, kNow));
}

TEST_F(ReplayStoreTest, ReadOnlyStoreCannotRememberAndSaysSo) {
  { ASSERT_TRUE(open()); }
  SqliteOptions ro;
  ro.read_only = true;
  auto s = open_sqlite_store(path_, ro);
  ASSERT_TRUE(s);
  auto r = (*s)->remember_once("k", kNow + 60, kNow);
  ASSERT_FALSE(r);  // never "first seen" when nothing could be remembered
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Unavailable));
}

}  // namespace
