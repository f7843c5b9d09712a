// The in-memory client cache in front of the store: a fresh entry spares the store read, a
// write through this process (invalidate) is seen at once, a write elsewhere within the TTL,
// and unknown client_ids are never remembered. Real SQLite file, manual clock.
#include <gtest/gtest.h>

#include "as/client_cache.hpp"
#include "as_fixture.hpp"

namespace fapigate::as::test {
namespace {

class ClientCacheTest : public AsTest {
protected:
  store::ClientRecord put(const std::string& id, const std::string& scope) {
    store::ClientRecord rec;
    rec.client_id = id;
    rec.token_endpoint_auth_method = "tls_client_auth";
    rec.tls_client_auth_subject_dn = "CN=" + id;
    rec.grant_types = {"client_credentials"};
    rec.scopes = {scope};
    rec.created_at = kNow;
    EXPECT_TRUE(store_->put_client(rec));
    return rec;
  }

  std::vector<std::string> scopes_of(ClientCache& cache, const std::string& id) {
    auto found = cache.find(id);
    EXPECT_TRUE(found) << found.error().message();
    if (!found || !*found) {
      return {};
    }
    return (*found)->scopes;
  }
};

TEST_F(ClientCacheTest, ServesFromMemoryUntilTheTtlEnds) {
  ClientCache cache(*store_, clock_, std::chrono::seconds(10));
  put("c1", "accounts");
  EXPECT_EQ(scopes_of(cache, "c1"), std::vector<std::string>{"accounts"});
  EXPECT_EQ(cache.size(), 1u);
  // A write by another instance sharing the store: not seen while the entry is fresh...
  put("c1", "payments");
  clock_.advance(9);
  EXPECT_EQ(scopes_of(cache, "c1"), std::vector<std::string>{"accounts"});
  // ...and seen once it has expired.
  clock_.advance(1);
  EXPECT_EQ(scopes_of(cache, "c1"), std::vector<std::string>{"payments"});
}

TEST_F(ClientCacheTest, InvalidateIsSeenAtOnce) {
  ClientCache cache(*store_, clock_);
  put("c1", "accounts");
  ASSERT_EQ(scopes_of(cache, "c1"), std::vector<std::string>{"accounts"});
  put("c1", "payments");
  cache.invalidate("c1");
  EXPECT_EQ(scopes_of(cache, "c1"), std::vector<std::string>{"payments"});
  ASSERT_TRUE(store_->delete_client("c1"));
  cache.invalidate("c1");
  auto gone = cache.find("c1");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

TEST_F(ClientCacheTest, UnknownClientsAreNotRemembered) {
  ClientCache cache(*store_, clock_);
  for (int i = 0; i < 50; ++i) {
    auto r = cache.find("probe-" + std::to_string(i));
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
  }
  EXPECT_EQ(cache.size(), 0u);
  // Registered later: found on the next lookup, no negative entry in the way.
  put("probe-7", "accounts");
  EXPECT_EQ(scopes_of(cache, "probe-7"), std::vector<std::string>{"accounts"});
}

TEST_F(ClientCacheTest, StaysWithinItsBound) {
  ClientCache cache(*store_, clock_, std::chrono::seconds(10), 4);
  for (int i = 0; i < 10; ++i) {
    put("c" + std::to_string(i), "accounts");
    ASSERT_EQ(scopes_of(cache, "c" + std::to_string(i)), std::vector<std::string>{"accounts"});
    EXPECT_LE(cache.size(), 4u);
  }
}

}  // namespace
}  // namespace fapigate::as::test
