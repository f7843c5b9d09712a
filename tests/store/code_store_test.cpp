// CodeStore on SQLite: authorization codes round-trip, single use decided atomically (also
// between two processes' connections), unknown codes, foreign key to the client, durability
// across a reopen, and purge of expired codes.
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

class CodeStoreTest : public fapigate::store::testing::SqliteStoreFixture {};

AuthorizationCodeRecord full_code(const std::string& hash) {
  AuthorizationCodeRecord c;
  c.code_hash = hash;
  c.client_id = "partner";
  c.subject = "alice";
  c.scope = "openid accounts";
  c.redirect_uri = "https://partner.example/cb?x=\"1\"&y=ü";
  c.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  c.nonce = "n-0S6_WzA2Mj";
  c.acr = "urn:mace:incommon:iap:silver";
  c.auth_time = kNow - 30;
  c.cnf_x5t_s256 = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2";
  c.claims_json = R"({"id_token":{"acr":{"essential":true}}})";
  c.resource = "https://api.example/";
  c.grant_id = "grant-1";
  c.issued_at = kNow;
  c.expires_at = kNow + 60;
  return c;
}

void expect_same(const AuthorizationCodeRecord& a, const AuthorizationCodeRecord& b) {
  EXPECT_EQ(a.code_hash, b.code_hash);
  EXPECT_EQ(a.client_id, b.client_id);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.scope, b.scope);
  EXPECT_EQ(a.redirect_uri, b.redirect_uri);
  EXPECT_EQ(a.code_challenge, b.code_challenge);
  EXPECT_EQ(a.nonce, b.nonce);
  EXPECT_EQ(a.acr, b.acr);
  EXPECT_EQ(a.auth_time, b.auth_time);
  EXPECT_EQ(a.cnf_x5t_s256, b.cnf_x5t_s256);
  EXPECT_EQ(a.claims_json, b.claims_json);
  EXPECT_EQ(a.resource, b.resource);
  EXPECT_EQ(a.grant_id, b.grant_id);
  EXPECT_EQ(a.issued_at, b.issued_at);
  EXPECT_EQ(a.expires_at, b.expires_at);
}

TEST_F(CodeStoreTest, RedeemReturnsEveryFieldAndFirstUseOnce) {
  const auto code = full_code("hash-1");
  ASSERT_TRUE(store_->put_code(code));

  auto first = store_->redeem_code("hash-1");
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->has_value());
  EXPECT_TRUE((*first)->first_use);
  expect_same((*first)->code, code);

  // RFC 6749 §4.1.2: the code is single use; the record still comes back so that the caller
  // can revoke what the first redemption issued.
  auto second = store_->redeem_code("hash-1");
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->has_value());
  EXPECT_FALSE((*second)->first_use);
  EXPECT_EQ((*second)->code.grant_id, "grant-1");
}

TEST_F(CodeStoreTest, UnknownCodeIsNullopt) {
  auto r = store_->redeem_code("no-such-hash");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST_F(CodeStoreTest, EmptyOptionalFieldsRoundTrip) {
  AuthorizationCodeRecord c;
  c.code_hash = "hash-min";
  c.client_id = "partner";
  c.subject = "bob";
  c.redirect_uri = "https://partner.example/cb";
  c.code_challenge = "x";
  c.grant_id = "g";
  c.issued_at = kNow;
  c.expires_at = kNow + 60;
  ASSERT_TRUE(store_->put_code(c));
  auto r = store_->redeem_code("hash-min");
  ASSERT_TRUE(r && r->has_value());
  expect_same((*r)->code, c);
}

TEST_F(CodeStoreTest, PutWithExistingHashConflicts) {
  ASSERT_TRUE(store_->put_code(full_code("dup")));
  auto again = store_->put_code(full_code("dup"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), make_error_code(StoreErrc::Conflict));
}

TEST_F(CodeStoreTest, CodeForUnknownClientConflicts) {
  auto c = full_code("orphan");
  c.client_id = "nobody";
  auto r = store_->put_code(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Conflict));
}

TEST_F(CodeStoreTest, DeletingTheClientDeletesItsCodes) {
  ASSERT_TRUE(store_->put_code(full_code("h")));
  ASSERT_TRUE(store_->delete_client("partner"));
  auto r = store_->redeem_code("h");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_value());
}

TEST_F(CodeStoreTest, UsedFlagSurvivesReopen) {
  ASSERT_TRUE(store_->put_code(full_code("h")));
  auto first = store_->redeem_code("h");
  ASSERT_TRUE(first && first->has_value() && (*first)->first_use);
  store_.reset();
  store_ = open();
  ASSERT_TRUE(store_);
  auto again = store_->redeem_code("h");
  ASSERT_TRUE(again && again->has_value());
  EXPECT_FALSE((*again)->first_use);
}

TEST_F(CodeStoreTest, ConcurrentRedemptionsAcrossConnectionsHaveOneWinner) {
  constexpr int kCodes = 20;
  for (int i = 0; i < kCodes; ++i) {
    ASSERT_TRUE(store_->put_code(full_code("c" + std::to_string(i))));
  }
  // A second connection to the same file stands in for a second AS process.
  auto other = open();
  ASSERT_TRUE(other);
  std::atomic<int> winners{0};
  std::atomic<int> failures{0};
  auto run = [&](Store* s) {
    for (int i = 0; i < kCodes; ++i) {
      auto r = s->redeem_code("c" + std::to_string(i));
      if (!r || !r->has_value()) {
        ++failures;
      } else if ((*r)->first_use) {
        ++winners;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back(run, store_.get());
    threads.emplace_back(run, other.get());
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(winners.load(), kCodes);
}

TEST_F(CodeStoreTest, PurgeExpiredRemovesExpiredCodes) {
  auto old_code = full_code("old");
  old_code.expires_at = kNow - 10;
  ASSERT_TRUE(store_->put_code(old_code));
  ASSERT_TRUE(store_->put_code(full_code("live")));
  auto n = store_->purge_expired(kNow);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  auto gone = store_->redeem_code("old");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
  auto live = store_->redeem_code("live");
  ASSERT_TRUE(live && live->has_value());
}

TEST_F(CodeStoreTest, GrantRoundTripAndWindowExtension) {
  GrantRecord g;
  g.grant_id = "grant-1";
  g.client_id = "partner";
  g.subject = "alice";
  g.scope = "openid accounts";
  g.acr = "urn:example:acr:2fa";
  g.auth_time = kNow - 5;
  g.created_at = kNow;
  g.expires_at = kNow + 1000;
  ASSERT_TRUE(store_->put_grant(g));
  auto found = store_->find_grant("grant-1");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->subject, "alice");
  EXPECT_EQ((*found)->scope, "openid accounts");
  EXPECT_EQ((*found)->acr, "urn:example:acr:2fa");
  EXPECT_EQ((*found)->auth_time, kNow - 5);
  EXPECT_EQ((*found)->created_at, kNow);
  EXPECT_EQ((*found)->expires_at, kNow + 1000);

  // Re-put moves the window only; the grant's subject and scope are never rewritten.
  auto moved = g;
  moved.subject = "mallory";
  moved.expires_at = kNow + 5000;
  ASSERT_TRUE(store_->put_grant(moved));
  found = store_->find_grant("grant-1");
  ASSERT_TRUE(found && found->has_value());
  EXPECT_EQ((*found)->subject, "alice");
  EXPECT_EQ((*found)->expires_at, kNow + 5000);

  auto none = store_->find_grant("other");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

}  // namespace
