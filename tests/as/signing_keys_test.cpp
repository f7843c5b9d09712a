// SigningKeys: first start, restart, rotation by the clock (publish before use, keep until the
// old key's tokens expire), store refresh in a running AS, encryption at rest under a KEK,
// migration of keys in clear, and the KEK sources.
#include "as/signing_keys.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/base64url.hpp"
#include "core/log.hpp"
#include "crypto/key.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace fapigate::as {
namespace {

constexpr std::int64_t kT0 = 1'700'000'000;
constexpr std::int64_t kRefresh = 30;
constexpr std::int64_t kAhead = 300;
constexpr std::int64_t kMargin = 330;

// A clock several threads may read while the test moves it.
class AtomicClock final : public core::Clock {
public:
  explicit AtomicClock(std::int64_t t) : t_(t) {}
  std::int64_t now() const override { return t_.load(); }
  void set(std::int64_t t) { t_.store(t); }
  void advance(std::int64_t d) { t_.fetch_add(d); }

private:
  std::atomic<std::int64_t> t_;
};

std::string b64(std::string_view raw) { return core::base64_encode(raw); }

crypto::AeadKey kek_of(char fill) {
  return crypto::AeadKey::from_bytes(std::string(crypto::kAeadKeyBytes, fill)).value();
}

class SigningKeysTest : public ::testing::Test {
protected:
  void SetUp() override {
    // Several tests read what the keys log; a suite that ran earlier in this binary may have
    // turned logging off (AsTest does), which ctest's one-process-per-test run hides.
    core::log::configure(core::log::Level::Info);
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("fapigate-keys-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(dir_);
    open_store();
  }
  void TearDown() override {
    keys_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void open_store() {
    auto s = store::open_sqlite_store((dir_ / "keys.db").string());
    ASSERT_TRUE(s) << s.error().message();
    store_ = std::move(*s);
  }

  SigningKeys::Options options(std::optional<crypto::AeadKey> kek = std::nullopt) const {
    SigningKeys::Options o;
    o.alg = jose::Alg::ES256;  // fast to generate
    o.kek = std::move(kek);
    o.refresh_interval = kRefresh;
    return o;
  }

  Result<std::shared_ptr<const SigningKeys>> start(
      std::optional<crypto::AeadKey> kek = std::nullopt) {
    return SigningKeys::load_or_create(*store_, options(std::move(kek)), clock_);
  }

  void start_ok(std::optional<crypto::AeadKey> kek = std::nullopt) {
    auto k = start(std::move(kek));
    ASSERT_TRUE(k) << k.error().message();
    keys_ = *k;
  }

  RotateResult rotate(std::optional<crypto::AeadKey> kek = std::nullopt) {
    RotateOptions o;
    o.alg = jose::Alg::ES256;
    o.kek = std::move(kek);
    o.publish_ahead = kAhead;
    o.retire_margin = kMargin;
    auto r = rotate_signing_keys(*store_, o, clock_.now());
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : RotateResult{};
  }

  std::vector<store::SigningKeyRecord> rows() {
    auto r = store_->list_signing_keys();
    EXPECT_TRUE(r);
    return r ? *r : std::vector<store::SigningKeyRecord>{};
  }

  std::vector<std::string> published() {
    auto set = jose::parse_jwks(keys_->jwks_json());
    EXPECT_TRUE(set);
    std::vector<std::string> kids;
    for (const auto& k : set->keys) {
      EXPECT_FALSE(k.key.is_private());
      kids.push_back(k.kid);
    }
    return kids;
  }

  bool publishes(const std::string& kid) {
    auto p = published();
    return std::find(p.begin(), p.end(), kid) != p.end();
  }

  std::string sign_token() {
    auto v = keys_->view();
    auto t = jose::sign_compact(R"({"sub":"x"})", *v->signer, v->kid, "at+jwt");
    EXPECT_TRUE(t);
    return t ? *t : "";
  }

  bool verifies(const std::string& token) {
    return jose::verify_compact(token, jose::kAllAlgs, keys_->verifiers()).has_value();
  }

  std::string kid_of(const std::string& token) {
    auto p = jose::parse_compact(token, jose::kAllAlgs);
    return p ? p->kid : "";
  }

  std::filesystem::path dir_;
  AtomicClock clock_{kT0};
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<const SigningKeys> keys_;
};

// ---- first start and restart -----------------------------------------------------------------

TEST_F(SigningKeysTest, FirstStartGeneratesAndPersistsOneKey) {
  ASSERT_TRUE(rows().empty());
  start_ok();
  auto r = rows();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].kid, keys_->current_kid());
  EXPECT_EQ(r[0].alg, "ES256");
  EXPECT_EQ(r[0].not_before, kT0);
  EXPECT_EQ(r[0].retire_after, 0);
  EXPECT_EQ(keys_->current_alg(), jose::Alg::ES256);
  // RFC 7638: the kid is the thumbprint of the published key.
  auto set = jose::parse_jwks(keys_->jwks_json());
  ASSERT_TRUE(set);
  ASSERT_EQ(set->keys.size(), 1u);
  EXPECT_EQ(jose::thumbprint(set->keys[0]), keys_->current_kid());
  EXPECT_FALSE(set->keys[0].key.is_private());
  EXPECT_EQ(keys_->jwks_json().find("\"d\""), std::string::npos);
}

TEST_F(SigningKeysTest, RestartReusesTheStoredKey) {
  start_ok();
  const std::string kid = keys_->current_kid();
  const std::string jwks = keys_->jwks_json();
  keys_.reset();
  store_.reset();
  open_store();
  clock_.advance(3600);
  start_ok();
  EXPECT_EQ(keys_->current_kid(), kid);
  EXPECT_EQ(keys_->jwks_json(), jwks);
  EXPECT_EQ(rows().size(), 1u);
}

TEST_F(SigningKeysTest, TokensItSignsVerifyWithItsOwnVerifiers) {
  start_ok();
  const std::string t = sign_token();
  EXPECT_EQ(kid_of(t), keys_->current_kid());
  EXPECT_TRUE(verifies(t));
  std::string tampered = t;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifies(tampered));
}

TEST_F(SigningKeysTest, AnotherAlgsKeyIsPublishedButANewKeySigns) {
  auto rsa = crypto::Key::generate(crypto::KeyType::Rsa);
  ASSERT_TRUE(rsa);
  auto jwk = jose::make_jwk(rsa->public_only(), "", jose::Alg::PS256);
  const std::string rsa_kid = jose::thumbprint(jwk);
  ASSERT_TRUE(store_->put_signing_key({rsa_kid, "PS256", rsa->private_pem(), kT0 - 10, kT0 - 10, 0}));
  start_ok();  // configured for ES256
  EXPECT_NE(keys_->current_kid(), rsa_kid);
  EXPECT_EQ(keys_->current_alg(), jose::Alg::ES256);
  EXPECT_TRUE(publishes(rsa_kid));
  EXPECT_EQ(rows().size(), 2u);
}

TEST_F(SigningKeysTest, OnlyRetiredKeysMeansANewKeyAtStart) {
  start_ok();
  const std::string old = keys_->current_kid();
  auto r = rows();
  r[0].retire_after = kT0 + 10;
  ASSERT_TRUE(store_->put_signing_key(r[0]));
  keys_.reset();
  clock_.advance(11);
  start_ok();
  EXPECT_NE(keys_->current_kid(), old);
  EXPECT_FALSE(publishes(old));
}

TEST_F(SigningKeysTest, AnUnusableRowInClearIsSkippedNotFatal) {
  ASSERT_TRUE(store_->put_signing_key({"garbage", "ES256", "not a pem", kT0, kT0, 0}));
  start_ok();
  EXPECT_NE(keys_->current_kid(), "garbage");
  EXPECT_FALSE(publishes("garbage"));
}

// ---- rotation ---------------------------------------------------------------------------------

TEST_F(SigningKeysTest, RotationPublishesTheNewKeyBeforeItSigns) {
  start_ok();
  const std::string old = keys_->current_kid();
  auto rot = rotate();
  ASSERT_FALSE(rot.new_kid.empty());
  EXPECT_EQ(rot.not_before, kT0 + kAhead);
  ASSERT_TRUE(keys_->refresh());
  EXPECT_TRUE(publishes(rot.new_kid));
  EXPECT_TRUE(publishes(old));
  EXPECT_EQ(keys_->current_kid(), old) << "a pending key must not sign";
  EXPECT_EQ(kid_of(sign_token()), old);
}

TEST_F(SigningKeysTest, RunningAsPicksUpARotationAfterTheRefreshInterval) {
  start_ok();
  auto rot = rotate();  // as another process would
  clock_.advance(kRefresh - 1);
  EXPECT_FALSE(publishes(rot.new_kid)) << "re-read no more often than the interval";
  clock_.advance(1);
  EXPECT_TRUE(publishes(rot.new_kid));
  EXPECT_EQ(published().size(), 2u);
}

TEST_F(SigningKeysTest, SwitchesToTheNewKeyExactlyAtNotBefore) {
  start_ok();
  const std::string old = keys_->current_kid();
  auto rot = rotate();
  clock_.set(rot.not_before - 1);
  EXPECT_EQ(keys_->current_kid(), old);
  const std::string before = sign_token();
  EXPECT_EQ(kid_of(before), old);
  clock_.set(rot.not_before);
  EXPECT_EQ(keys_->current_kid(), rot.new_kid);
  const std::string after = sign_token();
  EXPECT_EQ(kid_of(after), rot.new_kid);
  EXPECT_TRUE(verifies(after));
  EXPECT_TRUE(verifies(before)) << "tokens of the outgoing key stay verifiable";
}

TEST_F(SigningKeysTest, OldKeyIsPublishedUntilRetireAfterThenDropped) {
  start_ok();
  const std::string old = keys_->current_kid();
  const std::string old_token = sign_token();
  auto rot = rotate();
  ASSERT_EQ(rot.retiring.size(), 1u);
  EXPECT_EQ(rot.retiring[0].first, old);
  const std::int64_t retire = rot.not_before + kMargin;
  EXPECT_EQ(rot.retiring[0].second, retire);
  clock_.set(retire);
  EXPECT_TRUE(publishes(old));
  EXPECT_TRUE(verifies(old_token));
  clock_.set(retire + 1);
  EXPECT_FALSE(publishes(old));
  EXPECT_EQ(published(), std::vector<std::string>{rot.new_kid});
  EXPECT_FALSE(verifies(old_token)) << "a retired key no longer verifies";
  EXPECT_EQ(keys_->current_kid(), rot.new_kid);
}

TEST_F(SigningKeysTest, RetirementWrittenToTheStoreMatchesTheRotation) {
  start_ok();
  const std::string old = keys_->current_kid();
  auto rot = rotate();
  for (const auto& r : rows()) {
    if (r.kid == old) {
      EXPECT_EQ(r.retire_after, rot.not_before + kMargin);
      EXPECT_EQ(r.not_before, kT0);
    } else {
      EXPECT_EQ(r.kid, rot.new_kid);
      EXPECT_EQ(r.not_before, kT0 + kAhead);
      EXPECT_EQ(r.retire_after, 0);
    }
  }
}

TEST_F(SigningKeysTest, ASecondRotationDoesNotExtendARetirementAlreadyScheduled) {
  start_ok();
  const std::string first = keys_->current_kid();
  auto r1 = rotate();
  clock_.advance(100);
  auto r2 = rotate();
  ASSERT_EQ(r2.retiring.size(), 1u);
  EXPECT_EQ(r2.retiring[0].first, r1.new_kid) << "only keys without an end are retired";
  for (const auto& r : rows()) {
    if (r.kid == first) {
      EXPECT_EQ(r.retire_after, r1.not_before + kMargin);
    }
  }
}

TEST_F(SigningKeysTest, AccessorReferencesStayValidAcrossASwitch) {
  start_ok();
  const std::string& kid = keys_->current_kid();
  const std::string& jwks = keys_->jwks_json();
  const std::string old = kid;
  const std::string old_jwks = jwks;
  auto rot = rotate();
  ASSERT_TRUE(keys_->refresh());
  clock_.set(rot.not_before + kMargin + 1);
  EXPECT_EQ(keys_->current_kid(), rot.new_kid);
  // Still the values they had (ASan would report a freed view).
  EXPECT_EQ(kid, old);
  EXPECT_EQ(jwks, old_jwks);
}

TEST_F(SigningKeysTest, KeyStatesFollowTheSameRules) {
  start_ok();
  const std::string old = keys_->current_kid();
  auto rot = rotate();
  auto state_of = [&](const std::string& kid, std::int64_t now) {
    auto r = rows();
    auto s = key_states(r, jose::Alg::ES256, now);
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (r[i].kid == kid) {
        return s[i];
      }
    }
    return KeyState::Retired;
  };
  EXPECT_EQ(state_of(old, kT0), KeyState::Signing);
  EXPECT_EQ(state_of(rot.new_kid, kT0), KeyState::Pending);
  EXPECT_EQ(state_of(old, rot.not_before), KeyState::Verifying);
  EXPECT_EQ(state_of(rot.new_kid, rot.not_before), KeyState::Signing);
  EXPECT_EQ(state_of(old, rot.not_before + kMargin + 1), KeyState::Retired);
  EXPECT_EQ(key_state_name(KeyState::Pending), "pending");
  // Another alg's key never signs.
  EXPECT_NE(key_states(rows(), jose::Alg::PS256, kT0)[0], KeyState::Signing);
}

TEST_F(SigningKeysTest, ConcurrentReadersAlwaysSeeAConsistentView) {
  start_ok();
  auto rot = rotate();
  ASSERT_TRUE(keys_->refresh());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto v = keys_->view();
        auto t = jose::sign_compact("{}", *v->signer, v->kid);
        // The kid in the header names the key that signed, whatever the switch timing.
        if (!t || !jose::verify_compact(*t, jose::kAllAlgs, *v->verifiers)) {
          bad.fetch_add(1);
        }
      }
    });
  }
  for (std::int64_t t = kT0; t <= rot.not_before + kMargin + 2; t += 7) {
    clock_.set(t);
    std::this_thread::yield();
  }
  stop.store(true);
  for (auto& th : readers) {
    th.join();
  }
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(keys_->current_kid(), rot.new_kid);
}

// ---- encryption at rest -----------------------------------------------------------------------

TEST_F(SigningKeysTest, WithAKekTheRowIsSealedNotAPem) {
  start_ok(kek_of('a'));
  auto r = rows();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(is_sealed_key(r[0].private_pem));
  EXPECT_EQ(r[0].private_pem.rfind("fgk1:", 0), 0u);
  EXPECT_EQ(r[0].private_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_FALSE(crypto::Key::from_pem(r[0].private_pem));
}

TEST_F(SigningKeysTest, SealedRowOpensOnlyWithTheRightKek) {
  start_ok(kek_of('a'));
  const auto r = rows().at(0);
  auto pem = open_private_key(kek_of('a'), r.kid, r.alg, r.private_pem);
  ASSERT_TRUE(pem) << pem.error().message();
  auto key = crypto::Key::from_pem(*pem);
  ASSERT_TRUE(key);
  EXPECT_EQ(jose::thumbprint(jose::make_jwk(key->public_only(), "", jose::Alg::ES256)), r.kid);
  auto wrong = open_private_key(kek_of('b'), r.kid, r.alg, r.private_pem);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), make_error_code(SigningKeyErrc::KekMismatch));
}

TEST_F(SigningKeysTest, SealedKeyIsBoundToItsKidAndAlg) {
  auto sealed = seal_private_key(kek_of('a'), "kid-1", "ES256", "pem bytes");
  ASSERT_TRUE(sealed);
  EXPECT_TRUE(open_private_key(kek_of('a'), "kid-1", "ES256", *sealed));
  EXPECT_FALSE(open_private_key(kek_of('a'), "kid-2", "ES256", *sealed));
  EXPECT_FALSE(open_private_key(kek_of('a'), "kid-1", "PS256", *sealed));
  // Length-prefixed kid: shifting a character between kid and alg does not collide.
  EXPECT_FALSE(open_private_key(kek_of('a'), "kid-1:", "S256", *sealed));
  EXPECT_FALSE(open_private_key(kek_of('a'), "kid-1", "ES256", sealed->substr(5)));
  EXPECT_FALSE(open_private_key(kek_of('a'), "kid-1", "ES256", "fgk1:!!not-base64!!"));
  EXPECT_FALSE(open_private_key(kek_of('a'), "kid-1", "ES256", "fgk1:"));
}

TEST_F(SigningKeysTest, RestartWithTheSameKekReusesTheKey) {
  start_ok(kek_of('a'));
  const std::string kid = keys_->current_kid();
  keys_.reset();
  start_ok(kek_of('a'));
  EXPECT_EQ(keys_->current_kid(), kid);
  EXPECT_EQ(rows().size(), 1u);
}

TEST_F(SigningKeysTest, WrongKekRefusesToStartAndNamesTheKid) {
  start_ok(kek_of('a'));
  const std::string kid = keys_->current_kid();
  keys_.reset();
  ::testing::internal::CaptureStderr();
  auto k = start(kek_of('b'));
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error(), make_error_code(SigningKeyErrc::KekMismatch));
  EXPECT_NE(log.find("signing_key_decrypt_failed"), std::string::npos) << log;
  EXPECT_NE(log.find(kid), std::string::npos) << log;
  EXPECT_EQ(log.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(log.find("fgk1:"), std::string::npos) << "no sealed material in logs";
  EXPECT_EQ(rows().size(), 1u) << "no replacement key is generated";
}

TEST_F(SigningKeysTest, EncryptedStoreWithoutAKekRefusesToStart) {
  start_ok(kek_of('a'));
  keys_.reset();
  auto k = start();
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error(), make_error_code(SigningKeyErrc::KekMissing));
  EXPECT_EQ(rows().size(), 1u);
}

TEST_F(SigningKeysTest, ASealedRowMovedToAnotherKidRefusesToStart) {
  start_ok(kek_of('a'));
  auto r = rows().at(0);
  keys_.reset();
  // Another row carrying this row's envelope: the AAD (kid) does not match.
  auto other = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(other);
  const std::string other_kid =
      jose::thumbprint(jose::make_jwk(other->public_only(), "", jose::Alg::ES256));
  ASSERT_TRUE(store_->put_signing_key({other_kid, "ES256", r.private_pem, kT0, kT0, 0}));
  auto k = start(kek_of('a'));
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error(), make_error_code(SigningKeyErrc::KekMismatch));
}

TEST_F(SigningKeysTest, RetiredKeysAreNotDecryptedAtStart) {
  start_ok(kek_of('a'));
  auto r = rows().at(0);
  r.retire_after = kT0 + 1;
  ASSERT_TRUE(store_->put_signing_key(r));
  keys_.reset();
  clock_.advance(2);
  // A retired key under an old KEK must not block a start with a new KEK.
  start_ok(kek_of('b'));
  EXPECT_NE(keys_->current_kid(), r.kid);
}

TEST_F(SigningKeysTest, KeysInClearAreEncryptedWhenAKekIsConfigured) {
  start_ok();
  const std::string kid = keys_->current_kid();
  const std::string jwks = keys_->jwks_json();
  ASSERT_FALSE(is_sealed_key(rows().at(0).private_pem));
  // A retired key in clear too.
  auto old = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(store_->put_signing_key({"old", "ES256", old->private_pem(), 1, 1, 2}));
  keys_.reset();
  start_ok(kek_of('a'));
  EXPECT_EQ(keys_->current_kid(), kid) << "same key, only its storage changed";
  EXPECT_EQ(keys_->jwks_json(), jwks);
  for (const auto& r : rows()) {
    EXPECT_TRUE(is_sealed_key(r.private_pem)) << r.kid;
    EXPECT_EQ(r.private_pem.find("BEGIN"), std::string::npos) << r.kid;
    EXPECT_TRUE(open_private_key(kek_of('a'), r.kid, r.alg, r.private_pem)) << r.kid;
  }
  keys_.reset();
  start_ok(kek_of('a'));
  EXPECT_EQ(keys_->current_kid(), kid);
}

TEST_F(SigningKeysTest, WarnsAtStartWhenKeysAreUnencrypted) {
  ::testing::internal::CaptureStderr();
  start_ok();
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("signing_keys_unencrypted"), std::string::npos) << log;
  EXPECT_NE(log.find("FAPIGATE_KEK"), std::string::npos) << log;
  keys_.reset();
  ::testing::internal::CaptureStderr();
  start_ok(kek_of('a'));
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log.find("signing_keys_unencrypted"), std::string::npos) << log;
}

TEST_F(SigningKeysTest, RotationWithAKekSealsTheNewKey) {
  start_ok(kek_of('a'));
  auto rot = rotate(kek_of('a'));
  for (const auto& r : rows()) {
    EXPECT_TRUE(is_sealed_key(r.private_pem)) << r.kid;
  }
  ASSERT_TRUE(keys_->refresh());
  EXPECT_TRUE(publishes(rot.new_kid));
}

TEST_F(SigningKeysTest, RotationWithTheWrongKekWritesNothing) {
  start_ok(kek_of('a'));
  RotateOptions o;
  o.alg = jose::Alg::ES256;
  o.kek = kek_of('b');
  auto r = rotate_signing_keys(*store_, o, kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(SigningKeyErrc::KekMismatch));
  ASSERT_EQ(rows().size(), 1u);
  EXPECT_EQ(rows()[0].retire_after, 0) << "the current key is not retired";
}

TEST_F(SigningKeysTest, RotationWithoutAKekOnAnEncryptedStoreWritesNothing) {
  start_ok(kek_of('a'));
  RotateOptions o;
  o.alg = jose::Alg::ES256;
  auto r = rotate_signing_keys(*store_, o, kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(SigningKeyErrc::KekMissing));
  EXPECT_EQ(rows().size(), 1u);
}

TEST_F(SigningKeysTest, ARunningAsSkipsAKeyItCannotDecryptAndKeepsSigning) {
  start_ok(kek_of('a'));
  const std::string old = keys_->current_kid();
  // A key sealed under another KEK appears (a misconfigured tool bypassing the check).
  auto k = crypto::Key::generate(crypto::KeyType::Ec);
  ASSERT_TRUE(k);
  const std::string kid = jose::thumbprint(jose::make_jwk(k->public_only(), "", jose::Alg::ES256));
  auto sealed = seal_private_key(kek_of('b'), kid, "ES256", k->private_pem());
  ASSERT_TRUE(sealed);
  ASSERT_TRUE(store_->put_signing_key({kid, "ES256", *sealed, kT0, kT0 + 1, 0}));
  ::testing::internal::CaptureStderr();
  clock_.advance(kRefresh);
  EXPECT_FALSE(publishes(kid));
  clock_.advance(kRefresh);  // a second refresh does not log it again
  EXPECT_EQ(keys_->current_kid(), old);
  const std::string log = ::testing::internal::GetCapturedStderr();
  auto first = log.find("signing_key_decrypt_failed");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("signing_key_decrypt_failed", first + 1), std::string::npos) << log;
  EXPECT_NE(log.find(kid), std::string::npos);
}

// ---- the key-encryption key ------------------------------------------------------------------

class KekTest : public SigningKeysTest {
protected:
  std::string write_kek(const std::string& text, mode_t mode) {
    auto p = (dir_ / ("kek-" + std::to_string(n_++))).string();
    std::ofstream(p) << text;
    ::chmod(p.c_str(), mode);
    return p;
  }
  int n_ = 0;
};

TEST_F(KekTest, NeitherSourceMeansNoKek) {
  auto k = load_key_encryption_key("", std::nullopt);
  ASSERT_TRUE(k);
  EXPECT_FALSE(k->has_value());
  auto empty = load_key_encryption_key("", std::string());
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->has_value());
}

TEST_F(KekTest, FromTheEnvironment) {
  auto k = load_key_encryption_key("", b64(std::string(32, 'e')));
  ASSERT_TRUE(k) << k.error().message();
  ASSERT_TRUE(k->has_value());
  auto sealed = seal_private_key(**k, "a", "ES256", "x");
  EXPECT_TRUE(open_private_key(kek_of('e'), "a", "ES256", *sealed));
}

TEST_F(KekTest, FromAFileWithATrailingNewline) {
  auto p = write_kek(b64(std::string(32, 'f')) + "\n", 0600);
  auto k = load_key_encryption_key(p, std::nullopt);
  ASSERT_TRUE(k) << k.error().message();
  ASSERT_TRUE(k->has_value());
  auto sealed = seal_private_key(**k, "a", "ES256", "x");
  EXPECT_TRUE(open_private_key(kek_of('f'), "a", "ES256", *sealed));
}

TEST_F(KekTest, GroupReadableFileIsAccepted) {
  auto p = write_kek(b64(std::string(32, 'f')), 0640);
  EXPECT_TRUE(load_key_encryption_key(p, std::nullopt));
}

TEST_F(KekTest, WorldReadableFileIsRefused) {
  for (mode_t mode : {0644, 0604, 0602, 0601}) {
    auto p = write_kek(b64(std::string(32, 'f')), mode);
    auto k = load_key_encryption_key(p, std::nullopt);
    ASSERT_FALSE(k) << std::oct << mode;
    EXPECT_EQ(k.error(), make_error_code(SigningKeyErrc::KekFileUnsafe));
  }
}

TEST_F(KekTest, MissingFileIsRefused) {
  auto k = load_key_encryption_key((dir_ / "nope").string(), std::nullopt);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error(), make_error_code(SigningKeyErrc::KekUnreadable));
}

TEST_F(KekTest, DirectoryIsRefused) {
  ::chmod(dir_.c_str(), 0700);
  auto k = load_key_encryption_key(dir_.string(), std::nullopt);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error(), make_error_code(SigningKeyErrc::KekFileUnsafe));
}

TEST_F(KekTest, BothSourcesAreRefused) {
  auto p = write_kek(b64(std::string(32, 'f')), 0600);
  auto k = load_key_encryption_key(p, b64(std::string(32, 'e')));
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error(), make_error_code(SigningKeyErrc::KekAmbiguous));
}

TEST_F(KekTest, WrongLengthsAreRefused) {
  for (std::size_t n : {0u, 16u, 31u, 33u, 64u}) {
    auto k = load_key_encryption_key("", b64(std::string(n, 'e')) + (n == 0 ? "AA==" : ""));
    ASSERT_FALSE(k) << n;
    EXPECT_EQ(k.error(), make_error_code(SigningKeyErrc::KekMalformed)) << n;
  }
}

TEST_F(KekTest, NotBase64IsRefused) {
  for (const char* text : {"not base64 at all!", "ZZZ", "----", "ZmFwaWdhdGU"}) {
    auto k = load_key_encryption_key("", std::string(text));
    ASSERT_FALSE(k) << text;
    EXPECT_EQ(k.error(), make_error_code(SigningKeyErrc::KekMalformed)) << text;
  }
  // Raw 32 bytes in a file are not the documented format.
  auto p = write_kek(std::string(32, 'r'), 0600);
  EXPECT_FALSE(load_key_encryption_key(p, std::nullopt));
}

TEST_F(KekTest, OversizedFileIsRefused) {
  auto p = write_kek(std::string(10'000, 'A'), 0600);
  auto k = load_key_encryption_key(p, std::nullopt);
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error(), make_error_code(SigningKeyErrc::KekMalformed));
}

TEST_F(KekTest, ErrorsNeverLogTheKey) {
  const std::string secret = b64(std::string(31, 's'));
  ::testing::internal::CaptureStderr();
  auto k = load_key_encryption_key("", secret);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(k);
  EXPECT_NE(log.find("kek_malformed"), std::string::npos) << log;
  EXPECT_EQ(log.find(secret), std::string::npos) << log;
}

}  // namespace
}  // namespace fapigate::as
