#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "core/clock.hpp"
#include "store/housekeeping.hpp"
#include "support/wait_until.hpp"

using namespace fapigate;
using fapigate::testing::wait_until;
using namespace fapigate::store;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test, holding the database and its -wal/-shm companions.
class SqliteStoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "fapigate-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "fapigate.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<Store> open(const SqliteOptions& options = {}) {
    auto s = open_sqlite_store(path_, options);
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    return s ? std::move(*s) : nullptr;
  }

  fs::path dir_;
  std::string path_;
};

ClientRecord full_client(const std::string& id) {
  ClientRecord c;
  c.client_id = id;
  c.token_endpoint_auth_method = "tls_client_auth";
  c.tls_client_auth_subject_dn = "CN=" + id + ",O=Partner \"B\", Ltd.";
  c.tls_client_auth_san_dns = id + ".example.com";
  c.tls_client_auth_san_uri = "spiffe://example.com/" + id;
  c.tls_client_auth_san_ip = "192.0.2.7";
  c.tls_client_auth_san_email = "ops@" + id + ".example";
  c.grant_types = {"client_credentials", "authorization_code"};
  c.scopes = {"accounts", "payments"};
  c.redirect_uris = {"https://" + id + ".example/cb?x=1&y=\"2\"", "https://alt.example/ünïcode"};
  c.jwks_json = R"({"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"}]})";
  c.metadata_json = R"({"client_name":"Partner B"})";
  c.created_at = 1'700'000'000;
  return c;
}

void expect_same(const ClientRecord& a, const ClientRecord& b) {
  EXPECT_EQ(a.client_id, b.client_id);
  EXPECT_EQ(a.token_endpoint_auth_method, b.token_endpoint_auth_method);
  EXPECT_EQ(a.tls_client_auth_subject_dn, b.tls_client_auth_subject_dn);
  EXPECT_EQ(a.tls_client_auth_san_dns, b.tls_client_auth_san_dns);
  EXPECT_EQ(a.tls_client_auth_san_uri, b.tls_client_auth_san_uri);
  EXPECT_EQ(a.tls_client_auth_san_ip, b.tls_client_auth_san_ip);
  EXPECT_EQ(a.tls_client_auth_san_email, b.tls_client_auth_san_email);
  EXPECT_EQ(a.grant_types, b.grant_types);
  EXPECT_EQ(a.scopes, b.scopes);
  EXPECT_EQ(a.redirect_uris, b.redirect_uris);
  EXPECT_EQ(a.jwks_json, b.jwks_json);
  EXPECT_EQ(a.metadata_json, b.metadata_json);
  EXPECT_EQ(a.created_at, b.created_at);
}

TokenRecord token(const std::string& hash, const std::string& client, const std::string& grant,
                  std::int64_t expires_at = 2'000) {
  TokenRecord t;
  t.token_hash = hash;
  t.kind = "access_token";
  t.jti = "jti-" + hash;
  t.client_id = client;
  t.subject = "alice";
  t.scope = "accounts payments";
  t.audience = "https://api.example.com";
  t.cnf_x5t_s256 = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0";
  t.issued_at = 1'000;
  t.expires_at = expires_at;
  t.grant_id = grant;
  return t;
}

void expect_same(const TokenRecord& a, const TokenRecord& b) {
  EXPECT_EQ(a.token_hash, b.token_hash);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.jti, b.jti);
  EXPECT_EQ(a.client_id, b.client_id);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.scope, b.scope);
  EXPECT_EQ(a.audience, b.audience);
  EXPECT_EQ(a.cnf_x5t_s256, b.cnf_x5t_s256);
  EXPECT_EQ(a.issued_at, b.issued_at);
  EXPECT_EQ(a.expires_at, b.expires_at);
  EXPECT_EQ(a.revoked, b.revoked);
  EXPECT_EQ(a.grant_id, b.grant_id);
}

bool is_revoked(Store& s, const std::string& hash) {
  auto t = s.find_token(hash);
  return t && *t && (*t)->revoked;
}

}  // namespace

// --- Clients ---------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, ClientRoundTripWithEveryField) {
  auto s = open();
  ASSERT_TRUE(s);
  ClientRecord c = full_client("partner");
  ASSERT_TRUE(s->put_client(c));
  auto found = s->find_client("partner");
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  expect_same(**found, c);

  auto missing = s->find_client("nobody");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteStoreTest, ClientWithEmptyListsAndFields) {
  auto s = open();
  ASSERT_TRUE(s);
  ClientRecord c;
  c.client_id = "bare";
  c.token_endpoint_auth_method = "private_key_jwt";
  ASSERT_TRUE(s->put_client(c));
  auto found = s->find_client("bare");
  ASSERT_TRUE(found && *found);
  expect_same(**found, c);
}

TEST_F(SqliteStoreTest, PutClientReplaces) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_client(full_client("partner")));
  ClientRecord changed = full_client("partner");
  changed.scopes = {"accounts"};
  changed.redirect_uris.clear();
  changed.tls_client_auth_san_dns.clear();
  ASSERT_TRUE(s->put_client(changed));
  auto found = s->find_client("partner");
  ASSERT_TRUE(found && *found);
  expect_same(**found, changed);
  auto all = s->list_clients();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(SqliteStoreTest, PutClientKeepsTheClientsTokens) {
  // An update must not go through delete + insert, which would cascade to the tokens.
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_client(full_client("partner")));
  ASSERT_TRUE(s->put_token(token("h1", "partner", "g1")));
  ASSERT_TRUE(s->put_client(full_client("partner")));
  auto t = s->find_token("h1");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->has_value());
}

TEST_F(SqliteStoreTest, ListAndDeleteClients) {
  auto s = open();
  ASSERT_TRUE(s);
  for (const char* id : {"c", "a", "b"}) {
    ASSERT_TRUE(s->put_client(full_client(id)));
  }
  auto all = s->list_clients();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].client_id, "a");
  EXPECT_EQ((*all)[1].client_id, "b");
  EXPECT_EQ((*all)[2].client_id, "c");
  expect_same((*all)[1], full_client("b"));

  ASSERT_TRUE(s->delete_client("b"));
  ASSERT_TRUE(s->delete_client("not-there"));  // deleting nothing is not an error
  all = s->list_clients();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  auto gone = s->find_client("b");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone->has_value());
}

TEST_F(SqliteStoreTest, DeletingAClientDeletesItsTokens) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_client(full_client("a")));
  ASSERT_TRUE(s->put_client(full_client("b")));
  ASSERT_TRUE(s->put_token(token("ha", "a", "")));
  ASSERT_TRUE(s->put_token(token("hb", "b", "")));
  ASSERT_TRUE(s->delete_client("a"));
  auto ta = s->find_token("ha");
  auto tb = s->find_token("hb");
  ASSERT_TRUE(ta && tb);
  EXPECT_FALSE(ta->has_value());
  EXPECT_TRUE(tb->has_value());
}

// --- Signing keys ----------------------------------------------------------------------------

TEST_F(SqliteStoreTest, SigningKeysRoundTrip) {
  auto s = open();
  ASSERT_TRUE(s);
  auto empty = s->list_signing_keys();
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());

  SigningKeyRecord k1{"kid-1", "PS256",
                      "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n", 100,
                      100, 0};
  SigningKeyRecord k2{"kid-2", "ES256", "pem-2", 200, 250, 0};
  ASSERT_TRUE(s->put_signing_key(k2));
  ASSERT_TRUE(s->put_signing_key(k1));
  auto keys = s->list_signing_keys();
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 2u);
  const auto& a = (*keys)[0];  // oldest first
  EXPECT_EQ(a.kid, k1.kid);
  EXPECT_EQ(a.alg, k1.alg);
  EXPECT_EQ(a.private_pem, k1.private_pem);
  EXPECT_EQ(a.created_at, k1.created_at);
  EXPECT_EQ(a.not_before, k1.not_before);
  EXPECT_EQ(a.retire_after, k1.retire_after);
  EXPECT_EQ((*keys)[1].kid, "kid-2");
  EXPECT_EQ((*keys)[1].not_before, 250);
}

TEST_F(SqliteStoreTest, SigningKeyRotationUpdatesTheWindowButNotTheKey) {
  auto s = open();
  ASSERT_TRUE(s);
  SigningKeyRecord k{"kid-1", "PS256", "pem-1", 100, 100, 0};
  ASSERT_TRUE(s->put_signing_key(k));
  k.retire_after = 5'000;  // rotation: retire the key
  ASSERT_TRUE(s->put_signing_key(k));
  auto keys = s->list_signing_keys();
  ASSERT_TRUE(keys && keys->size() == 1u);
  EXPECT_EQ((*keys)[0].retire_after, 5'000);

  SigningKeyRecord other{"kid-1", "PS256", "a different key", 100, 100, 0};
  auto r = s->put_signing_key(other);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Conflict));
  keys = s->list_signing_keys();
  ASSERT_TRUE(keys && keys->size() == 1u);
  EXPECT_EQ((*keys)[0].private_pem, "pem-1");
}

TEST_F(SqliteStoreTest, SigningKeyMaterialIsReplacedOnlyFromTheExpectedValue) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_signing_key({"kid-1", "PS256", "pem-1", 100, 100, 0}));
  // Compare-and-swap: a stale expected value changes nothing.
  auto stale = s->replace_signing_key_material("kid-1", "pem-0", "sealed-x");
  ASSERT_TRUE(stale);
  EXPECT_FALSE(*stale);
  auto missing = s->replace_signing_key_material("kid-2", "pem-1", "sealed-x");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  auto keys = s->list_signing_keys();
  ASSERT_TRUE(keys && keys->size() == 1u);
  EXPECT_EQ((*keys)[0].private_pem, "pem-1");

  auto ok = s->replace_signing_key_material("kid-1", "pem-1", "fgk1:sealed");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(*ok);
  keys = s->list_signing_keys();
  ASSERT_TRUE(keys && keys->size() == 1u);
  EXPECT_EQ((*keys)[0].private_pem, "fgk1:sealed");
  EXPECT_EQ((*keys)[0].not_before, 100) << "only the material changes";
  // The window can still be moved with the new material.
  ASSERT_TRUE(s->put_signing_key({"kid-1", "PS256", "fgk1:sealed", 100, 100, 900}));
  keys = s->list_signing_keys();
  ASSERT_TRUE(keys && keys->size() == 1u);
  EXPECT_EQ((*keys)[0].retire_after, 900);
}

// --- Tokens ----------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, TokenPutFindRevoke) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_client(full_client("partner")));
  TokenRecord t = token("hash-1", "partner", "grant-1");
  ASSERT_TRUE(s->put_token(t));
  auto found = s->find_token("hash-1");
  ASSERT_TRUE(found && *found);
  expect_same(**found, t);

  auto missing = s->find_token("hash-2");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(s->revoke_token("hash-1"));
  EXPECT_TRUE(is_revoked(*s, "hash-1"));
  ASSERT_TRUE(s->revoke_token("hash-1"));  // idempotent
  ASSERT_TRUE(s->revoke_token("unknown"));  // RFC 7009 §2.2: unknown tokens are fine
}

TEST_F(SqliteStoreTest, PutTokenWithExistingHashConflicts) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_client(full_client("partner")));
  ASSERT_TRUE(s->put_token(token("h", "partner", "g")));
  TokenRecord other = token("h", "partner", "g2");
  other.subject = "mallory";
  auto r = s->put_token(other);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Conflict));
  auto found = s->find_token("h");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->subject, "alice");  // the first one stays
}

TEST_F(SqliteStoreTest, PutTokenForUnknownClientConflicts) {
  auto s = open();
  ASSERT_TRUE(s);
  auto r = s->put_token(token("h", "nobody", "g"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Conflict));
}

TEST_F(SqliteStoreTest, RevokeGrantRevokesEveryTokenOfTheGrant) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_client(full_client("partner")));
  TokenRecord code = token("code", "partner", "g1");
  code.kind = "authorization_code";
  TokenRecord refresh = token("refresh", "partner", "g1");
  refresh.kind = "refresh_token";
  ASSERT_TRUE(s->put_token(code));
  ASSERT_TRUE(s->put_token(token("access", "partner", "g1")));
  ASSERT_TRUE(s->put_token(refresh));
  ASSERT_TRUE(s->put_token(token("other", "partner", "g2")));
  ASSERT_TRUE(s->put_token(token("nogrant", "partner", "")));

  ASSERT_TRUE(s->revoke_grant("g1"));
  EXPECT_TRUE(is_revoked(*s, "code"));
  EXPECT_TRUE(is_revoked(*s, "access"));
  EXPECT_TRUE(is_revoked(*s, "refresh"));
  EXPECT_FALSE(is_revoked(*s, "other"));
  EXPECT_FALSE(is_revoked(*s, "nogrant"));

  // The empty grant id is "no grant", not a grant shared by every grant-less token.
  ASSERT_TRUE(s->revoke_grant(""));
  EXPECT_FALSE(is_revoked(*s, "nogrant"));
  ASSERT_TRUE(s->revoke_grant("unknown-grant"));
}

TEST_F(SqliteStoreTest, RevokedGrantIsRememberedEvenBeforeItHasTokens) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_client(full_client("partner")));
  EXPECT_FALSE(s->grant_revoked("g1").value());
  // A code reuse can revoke the grant before the first redemption has written its tokens.
  ASSERT_TRUE(s->revoke_grant("g1"));
  EXPECT_TRUE(s->grant_revoked("g1").value());
  EXPECT_FALSE(s->grant_revoked("g2").value());
  EXPECT_FALSE(s->grant_revoked("").value());
  ASSERT_TRUE(s->revoke_grant("g1"));  // idempotent
  EXPECT_TRUE(s->grant_revoked("g1").value());
  // Remembered across a restart.
  s.reset();
  s = open();
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->grant_revoked("g1").value());
}

TEST_F(SqliteStoreTest, RevokeIfActiveSpendsATokenExactlyOnce) {
  constexpr int kThreads = 4;
  auto a = open();
  auto b = open();  // two connections, as two processes sharing the file would be
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->put_client(full_client("partner")));
  for (int round = 0; round < 20; ++round) {
    const std::string hash = "rt-" + std::to_string(round);
    ASSERT_TRUE(a->put_token(token(hash, "partner", "g")));
    std::atomic<int> winners{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto r = (t % 2 ? *a : *b).revoke_token_if_active(hash);
        if (!r) {
          ++failures;
        } else if (*r) {
          ++winners;
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    EXPECT_EQ(failures.load(), 0) << round;
    EXPECT_EQ(winners.load(), 1) << round;
    EXPECT_TRUE(is_revoked(*a, hash));
  }
  EXPECT_FALSE(a->revoke_token_if_active("unknown").value());
}

TEST_F(SqliteStoreTest, PurgeExpiredDeletesRowsExpiredBeforeTheTime) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_client(full_client("partner")));
  ASSERT_TRUE(s->put_token(token("t100", "partner", "", 100)));
  ASSERT_TRUE(s->put_token(token("t200", "partner", "", 200)));
  ASSERT_TRUE(s->put_token(token("t300", "partner", "", 300)));
  auto n = s->purge_expired(200);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);  // strictly before
  EXPECT_FALSE(*s->find_token("t100"));
  EXPECT_TRUE(*s->find_token("t200"));
  n = s->purge_expired(1'000);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2u);
  n = s->purge_expired(1'000);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
}

// --- Upkeep (store/housekeeping.hpp) ---------------------------------------------------------

TEST_F(SqliteStoreTest, RevokedGrantMarksArePurgedByAge) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->revoke_grant("g1"));
  const std::int64_t marked = std::time(nullptr);  // revoked_at is the database's clock
  ASSERT_TRUE(*s->grant_revoked("g1"));
  auto kept = s->purge_revoked_grants(marked - 60);
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, 0u);
  EXPECT_TRUE(*s->grant_revoked("g1"));
  auto gone = s->purge_revoked_grants(marked + 60);
  ASSERT_TRUE(gone);
  EXPECT_EQ(*gone, 1u);
  EXPECT_FALSE(*s->grant_revoked("g1"));
}

// One pass: expired tokens and replay entries go, live ones stay; a revoked-grant mark stays
// while younger than the retention.
TEST_F(SqliteStoreTest, PurgeOnceRemovesOnlyWhatCanNoLongerMatter) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_client(full_client("partner")));
  const std::int64_t now = std::time(nullptr);
  ASSERT_TRUE(s->put_token(token("old", "partner", "", now - 10)));
  ASSERT_TRUE(s->put_token(token("live", "partner", "", now + 300)));
  ASSERT_TRUE(*s->remember_once("jti-old", now - 5, now - 100));
  ASSERT_TRUE(*s->remember_once("jti-live", now + 60, now));
  ASSERT_TRUE(s->revoke_grant("g-revoked"));

  auto counts = purge_once(*s, now, /*revoked_grant_retention=*/3600);
  ASSERT_TRUE(counts) << counts.error().message();
  EXPECT_EQ(counts->expired, 1u);
  EXPECT_EQ(counts->replay, 1u);
  EXPECT_EQ(counts->revoked_grants, 0u);
  EXPECT_FALSE(*s->find_token("old"));
  EXPECT_TRUE(*s->find_token("live"));
  EXPECT_FALSE(*s->remember_once("jti-live", now + 60, now)) << "a live jti is still a replay";
  EXPECT_TRUE(*s->grant_revoked("g-revoked"));

  // Past the retention the mark goes too.
  counts = purge_once(*s, now + 7200, 3600);
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->revoked_grants, 1u);
  EXPECT_FALSE(*s->grant_revoked("g-revoked"));
}

// The background pass runs by itself, on the clock it is given.
TEST_F(SqliteStoreTest, HousekeeperPurgesWithoutBeingAsked) {
  auto s = open();
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->put_client(full_client("partner")));
  ASSERT_TRUE(s->put_token(token("t1", "partner", "", 100)));
  ASSERT_TRUE(s->put_token(token("t2", "partner", "", 5'000)));
  fapigate::core::ManualClock clock(1'000);
  {
    Housekeeper keeper(*s, clock, std::chrono::milliseconds(10), 3600);
    EXPECT_TRUE(wait_until([&] { return keeper.totals().expired > 0; }));
    EXPECT_EQ(keeper.totals().expired, 1u);
    EXPECT_FALSE(*s->find_token("t1"));
    EXPECT_TRUE(*s->find_token("t2"));
    clock.advance(5'000);
    EXPECT_TRUE(wait_until([&] { return keeper.totals().expired >= 2; }));
    EXPECT_EQ(keeper.totals().expired, 2u);
    EXPECT_EQ(keeper.failures(), 0u);
  }
  EXPECT_FALSE(*s->find_token("t2"));
}

// A store that cannot write: the pass fails, is counted, and the task keeps running.
TEST_F(SqliteStoreTest, HousekeeperCountsAFailedPassAndKeepsGoing) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_client(full_client("partner")));
    ASSERT_TRUE(s->put_token(token("t1", "partner", "", 100)));
  }
  auto ro = open(SqliteOptions{.read_only = true});
  ASSERT_TRUE(ro);
  EXPECT_FALSE(purge_once(*ro, 1'000, 3600));
  fapigate::core::ManualClock clock(1'000);
  Housekeeper keeper(*ro, clock, std::chrono::milliseconds(10), 3600);
  EXPECT_TRUE(wait_until([&] { return keeper.failures() >= 2; }))
      << "a failed pass must not end the task";
  EXPECT_EQ(keeper.totals().expired, 0u);
  EXPECT_TRUE(*ro->find_token("t1"));
}

// --- Files -----------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, DataSurvivesReopen) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_client(full_client("partner")));
    ASSERT_TRUE(s->put_signing_key({"kid", "EdDSA", "pem", 1, 1, 0}));
    ASSERT_TRUE(s->put_token(token("h", "partner", "g")));
    ASSERT_TRUE(s->revoke_token("h"));
  }
  auto s = open();
  ASSERT_TRUE(s);
  auto c = s->find_client("partner");
  ASSERT_TRUE(c && *c);
  expect_same(**c, full_client("partner"));
  auto keys = s->list_signing_keys();
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->size(), 1u);
  TokenRecord want = token("h", "partner", "g");
  want.revoked = true;
  auto t = s->find_token("h");
  ASSERT_TRUE(t && *t);
  expect_same(**t, want);
}

TEST_F(SqliteStoreTest, TokenSurvivesKill9RightAfterPut) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto r = open_sqlite_store(path_);
    if (!r || !(*r)->put_client(full_client("partner")) ||
        !(*r)->put_token(token("h", "partner", "g"))) {
      ::_exit(1);
    }
    ::raise(SIGKILL);  // no close, no checkpoint: the token is only in the WAL
    ::_exit(2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  auto s = open();
  ASSERT_TRUE(s);
  auto t = s->find_token("h");
  ASSERT_TRUE(t && *t);
  expect_same(**t, token("h", "partner", "g"));
}

TEST_F(SqliteStoreTest, DatabaseIsInWalModeWithSchemaVersion) {
  { ASSERT_TRUE(open()); }
  // Read the header directly: WAL is recorded as file format versions 2/2 (bytes 18-19), the
  // user_version is the big-endian integer at offset 60.
  std::ifstream f(path_, std::ios::binary);
  std::string header(100, '\0');
  f.read(header.data(), 100);
  ASSERT_EQ(f.gcount(), 100);
  EXPECT_EQ(header.substr(0, 16), std::string("SQLite format 3\0", 16));
  EXPECT_EQ(header[18], 2);
  EXPECT_EQ(header[19], 2);
  // 2: replay_cache (client assertion jti); 3: authorization codes; 4: the front channel;
  // 5: grants; 6: partial grant index; 7: revoked grants.
  EXPECT_EQ(header[63], 7);
}

TEST_F(SqliteStoreTest, UnwritablePathIsUnavailable) {
  auto r = open_sqlite_store((dir_ / "no-such-dir" / "x.db").string());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Unavailable));
  // A directory where the file should be.
  fs::create_directory(dir_ / "a-dir");
  r = open_sqlite_store((dir_ / "a-dir").string());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Unavailable));
}

TEST_F(SqliteStoreTest, ReadOnlyOpenReadsButRefusesWrites) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_client(full_client("partner")));
    ASSERT_TRUE(s->put_token(token("h", "partner", "g")));
  }
  auto s = open(SqliteOptions{.read_only = true});
  ASSERT_TRUE(s);
  auto c = s->find_client("partner");
  ASSERT_TRUE(c && *c);
  auto t = s->find_token("h");
  ASSERT_TRUE(t && *t);
  auto keys = s->list_signing_keys();
  ASSERT_TRUE(keys);

  const ErrorCode unavailable = make_error_code(StoreErrc::Unavailable);
  auto put = s->put_client(full_client("x"));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error(), unavailable);
  auto pt = s->put_token(token("h2", "partner", "g"));
  ASSERT_FALSE(pt);
  EXPECT_EQ(pt.error(), unavailable);
  auto rv = s->revoke_grant("g");
  ASSERT_FALSE(rv);
  EXPECT_EQ(rv.error(), unavailable);
  auto pk = s->put_signing_key({"kid", "PS256", "pem", 1, 1, 0});
  ASSERT_FALSE(pk);
  EXPECT_EQ(pk.error(), unavailable);
  auto pe = s->purge_expired(1'000'000);
  ASSERT_FALSE(pe);
  EXPECT_EQ(pe.error(), unavailable);
  // Reads still work after the failed writes.
  t = s->find_token("h");
  ASSERT_TRUE(t && *t);
  EXPECT_FALSE((*t)->revoked);
}

TEST_F(SqliteStoreTest, ReadOnlyOpenOfMissingFileIsUnavailable) {
  auto r = open_sqlite_store(path_, SqliteOptions{.read_only = true});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Unavailable));
}

// The database file is chmod 0444. Root ignores file permissions, so when the tests run as
// root the check runs in a child process that has dropped to an unprivileged user.
TEST_F(SqliteStoreTest, ReadOnlyFileRefusesWritesButReads) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_client(full_client("partner")));
  }
  fs::permissions(path_, fs::perms(0444));
  // The directory stays writable: SQLite creates the -shm/-wal companions there.
  fs::permissions(dir_, fs::perms::all);

  // 0: all as expected; otherwise the number of the failed step.
  auto check = [this]() -> int {
    auto r = open_sqlite_store(path_);
    if (!r) {
      return 1;
    }
    auto& s = *r;
    auto c = s->find_client("partner");
    if (!c || !*c) {
      return 2;
    }
    auto put = s->put_client(full_client("x"));
    if (put || put.error() != make_error_code(StoreErrc::Unavailable)) {
      return 3;
    }
    auto c2 = s->find_client("partner");
    if (!c2 || !*c2) {
      return 4;
    }
    return 0;
  };
  if (::geteuid() != 0) {
    EXPECT_EQ(check(), 0);
    return;
  }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // nobody:nogroup on Debian.
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(100);
    }
    ::_exit(check());
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "failed step " << WEXITSTATUS(status);
}

TEST_F(SqliteStoreTest, CorruptFileIsAnErrorNotACrash) {
  std::mt19937 rng(42);
  std::string junk(16 * 1024, '\0');
  for (auto& ch : junk) {
    ch = static_cast<char>(rng());
  }
  std::ofstream(path_, std::ios::binary) << junk;
  auto r = open_sqlite_store(path_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Corrupt));
}

TEST_F(SqliteStoreTest, CorruptListColumnIsCorrupt) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_client(full_client("partner")));
  }
  // Damage the row behind the store's back.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE clients SET scopes = '[1, 2' WHERE client_id = 'partner'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = open();
  ASSERT_TRUE(s);
  auto c = s->find_client("partner");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), make_error_code(StoreErrc::Corrupt));
  auto all = s->list_clients();
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error(), make_error_code(StoreErrc::Corrupt));
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  { ASSERT_TRUE(open()); }
  // Bump user_version in the header (offset 60, big-endian) beyond what this build knows.
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(63);
    f.put(char(99));
  }
  auto r = open_sqlite_store(path_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(StoreErrc::Unavailable));
}

// --- Concurrency -----------------------------------------------------------------------------

TEST_F(SqliteStoreTest, ConcurrentWritersAllPersisted) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->put_client(full_client("partner")));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&s, &failures, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string id = std::to_string(t) + "-" + std::to_string(i);
          if (!s->put_token(token("h" + id, "partner", "g" + std::to_string(t)))) {
            ++failures;
          }
          // Interleave reads with the writes.
          auto found = s->find_token("h" + id);
          if (!found || !*found) {
            ++failures;
          }
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    EXPECT_EQ(failures.load(), 0);
  }
  auto s = open();
  ASSERT_TRUE(s);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::string hash = "h" + std::to_string(t) + "-" + std::to_string(i);
      auto found = s->find_token(hash);
      ASSERT_TRUE(found && *found) << hash;
    }
  }
  auto n = s->purge_expired(1'000'000);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, std::size_t(kThreads * kPerThread));
}

TEST_F(SqliteStoreTest, TwoStoresOnOneFile) {
  // Two handles (as `fapigate keys` next to a running server): both see each other's commits.
  auto a = open();
  auto b = open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->put_client(full_client("partner")));
  ASSERT_TRUE(b->put_token(token("h", "partner", "g")));
  auto t = a->find_token("h");
  ASSERT_TRUE(t && *t);
}

TEST(StoreErrc, CategoryNamesEachError) {
  EXPECT_STREQ(make_error_code(StoreErrc::Unavailable).category().name(), "fapigate.store");
  EXPECT_EQ(make_error_code(StoreErrc::Conflict).message(),
            "store conflict (the key already exists)");
  ErrorCode ec = StoreErrc::Corrupt;  // is_error_code_enum
  EXPECT_EQ(ec, make_error_code(StoreErrc::Corrupt));
  EXPECT_NE(make_error_code(StoreErrc::Internal).message(), "");
}
