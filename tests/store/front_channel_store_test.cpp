// The front channel's tables on SQLite (migration 3 -> 4): pushed authorization requests
// (single use decided atomically, expiry, client binding), users, failed-login counting,
// consents (withdrawal only by their owner) and browser sessions (expiry).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.hpp"
#include "store_fixture.hpp"

using namespace fapigate;
using namespace fapigate::store;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;

class FrontStoreTest : public fapigate::store::testing::SqliteStoreFixture {};

PushedRequestRecord pushed(const std::string& hash, std::int64_t created = kNow) {
  PushedRequestRecord r;
  r.request_uri_hash = hash;
  r.client_id = "partner";
  r.params_json = R"({"scope":"payments","state":"\"ü\""})";
  r.cnf_x5t_s256 = "thumb";
  r.created_at = created;
  r.expires_at = created + 90;
  return r;
}

TEST_F(FrontStoreTest, PushedRequestRoundTripsAcrossReopen) {
  ASSERT_TRUE(store_->put_pushed_request(pushed("h1")));
  store_ = open();
  auto found = store_->find_pushed_request("h1");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->client_id, "partner");
  EXPECT_EQ((*found)->params_json, R"({"scope":"payments","state":"\"ü\""})");
  EXPECT_EQ((*found)->cnf_x5t_s256, "thumb");
  EXPECT_EQ((*found)->expires_at, kNow + 90);
  EXPECT_FALSE((*found)->used);
  auto missing = store_->find_pushed_request("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

TEST_F(FrontStoreTest, PushedRequestIsConsumedOnceAndNotAfterExpiry) {
  ASSERT_TRUE(store_->put_pushed_request(pushed("h1")));
  ASSERT_TRUE(store_->put_pushed_request(pushed("h2")));
  auto first = store_->consume_pushed_request("h1", kNow + 10);
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first);
  auto second = store_->consume_pushed_request("h1", kNow + 11);
  ASSERT_TRUE(second);
  EXPECT_FALSE(*second);
  EXPECT_TRUE((*store_->find_pushed_request("h1"))->used);
  auto late = store_->consume_pushed_request("h2", kNow + 91);
  ASSERT_TRUE(late);
  EXPECT_FALSE(*late);
  auto unknown = store_->consume_pushed_request("h3", kNow);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);
}

TEST_F(FrontStoreTest, ConcurrentConsumersOnlyOneWins) {
  ASSERT_TRUE(store_->put_pushed_request(pushed("race")));
  auto other = open();
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    Store* s = i % 2 ? other.get() : store_.get();
    threads.emplace_back([s, &wins] {
      auto r = s->consume_pushed_request("race", kNow);
      if (r && *r) {
        ++wins;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(wins.load(), 1);
}

TEST_F(FrontStoreTest, DuplicateHashOrUnknownClientConflicts) {
  ASSERT_TRUE(store_->put_pushed_request(pushed("h1")));
  auto dup = store_->put_pushed_request(pushed("h1"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), make_error_code(StoreErrc::Conflict));
  auto stranger = pushed("h9");
  stranger.client_id = "nobody";
  auto r = store_->put_pushed_request(stranger);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Conflict));
}

TEST_F(FrontStoreTest, ExpiredPushedRequestsArePurgedOnInsert) {
  ASSERT_TRUE(store_->put_pushed_request(pushed("old", kNow)));
  ASSERT_TRUE(store_->put_pushed_request(pushed("new", kNow + 1000)));
  auto old = store_->find_pushed_request("old");
  ASSERT_TRUE(old);
  EXPECT_FALSE(*old);
}

TEST_F(FrontStoreTest, UsersUpsert) {
  ASSERT_TRUE(store_->put_user({"alice", "$scrypt$a", kNow}));
  ASSERT_TRUE(store_->put_user({"alice", "$scrypt$b", kNow + 5}));
  auto u = store_->find_user("alice");
  ASSERT_TRUE(u && *u);
  EXPECT_EQ((*u)->password_hash, "$scrypt$b");
  EXPECT_EQ((*u)->created_at, kNow);
  auto none = store_->find_user("Alice");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
}

TEST_F(FrontStoreTest, LoginFailuresCountInAWindow) {
  EXPECT_EQ(*store_->login_failures("user:a", kNow, 900), 0);
  EXPECT_EQ(*store_->note_login_failure("user:a", kNow, 900), 1);
  EXPECT_EQ(*store_->note_login_failure("user:a", kNow + 10, 900), 2);
  EXPECT_EQ(*store_->login_failures("user:a", kNow + 899, 900), 2);
  EXPECT_EQ(*store_->login_failures("user:a", kNow + 900, 900), 0);
  // A failure after the window starts a new one.
  EXPECT_EQ(*store_->note_login_failure("user:a", kNow + 901, 900), 1);
  ASSERT_TRUE(store_->clear_login_failures("user:a"));
  EXPECT_EQ(*store_->login_failures("user:a", kNow + 902, 900), 0);
  EXPECT_EQ(*store_->login_failures("addr:x", kNow, 900), 0);
}

TEST_F(FrontStoreTest, ConsentsListAndWithdrawByOwnerOnly) {
  ConsentRecord c{"c1", "alice", "partner", "payments", "g1", kNow, false, 0};
  ASSERT_TRUE(store_->put_consent(c));
  ConsentRecord c2{"c2", "alice", "partner", "accounts", "g2", kNow + 5, false, 0};
  ASSERT_TRUE(store_->put_consent(c2));
  auto list = store_->list_consents("alice");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].consent_id, "c2");  // newest first
  EXPECT_TRUE(store_->list_consents("bob")->empty());

  auto by_bob = store_->withdraw_consent("c1", "bob", kNow + 10);
  ASSERT_TRUE(by_bob);
  EXPECT_FALSE(*by_bob);
  auto w = store_->withdraw_consent("c1", "alice", kNow + 10);
  ASSERT_TRUE(w && *w);
  EXPECT_EQ((*w)->grant_id, "g1");
  EXPECT_TRUE((*w)->withdrawn);
  EXPECT_EQ((*w)->withdrawn_at, kNow + 10);
  auto again = store_->withdraw_consent("c1", "alice", kNow + 11);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
}

TEST_F(FrontStoreTest, SessionsExpire) {
  ASSERT_TRUE(store_->put_session({"s1", "alice", kNow, kNow + 1800}));
  auto s = store_->find_session("s1", kNow + 1800);
  ASSERT_TRUE(s && *s);
  EXPECT_EQ((*s)->subject, "alice");
  EXPECT_EQ((*s)->auth_time, kNow);
  auto late = store_->find_session("s1", kNow + 1801);
  ASSERT_TRUE(late);
  EXPECT_FALSE(*late);
  ASSERT_TRUE(store_->delete_session("s1"));
  EXPECT_FALSE(*store_->find_session("s1", kNow));
}

}  // namespace
