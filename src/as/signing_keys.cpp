#include "as/signing_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <tuple>

#include <openssl/crypto.h>

#include "core/base64url.hpp"
#include "core/log.hpp"
#include "crypto/key.hpp"

namespace fapigate::as {

struct SigningKeys::Loaded {
  std::string kid;
  std::string alg_name;
  jose::Alg alg{};
  std::int64_t created_at = 0;
  std::int64_t not_before = 0;
  std::int64_t retire_after = 0;
  jose::Jwk jwk;                                  // public half, with kid and alg
  std::shared_ptr<const crypto::Signer> signer;   // for the key's own alg
};

namespace {

namespace log = core::log;

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
// A KEK file holds 44 characters of base64 and a newline; anything much larger is not one.
constexpr std::size_t kMaxKekFileBytes = 4096;
constexpr const char* kUnencryptedMessage =
    "signing keys are stored unencrypted: set key_encryption_key_file or FAPIGATE_KEK";

class SigningKeyCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "fapigate.signing_keys"; }
  std::string message(int ev) const override {
    switch (static_cast<SigningKeyErrc>(ev)) {
      case SigningKeyErrc::KekAmbiguous:
        return "both key_encryption_key_file and FAPIGATE_KEK are set; set one";
      case SigningKeyErrc::KekFileUnsafe:
        return "the key-encryption key file is accessible to other users (chmod 600)";
      case SigningKeyErrc::KekUnreadable: return "the key-encryption key file cannot be read";
      case SigningKeyErrc::KekMalformed:
        return "the key-encryption key is not base64 of exactly 32 bytes";
      case SigningKeyErrc::KekMissing:
        return "the store holds encrypted signing keys but no key-encryption key is configured";
      case SigningKeyErrc::KekMismatch:
        return "a signing key does not decrypt under the configured key-encryption key";
      case SigningKeyErrc::KeyUnusable: return "a stored signing key is unusable";
    }
    return "unknown signing key error";
  }
};

crypto::KeyType key_type_for(jose::Alg alg) {
  switch (alg) {
    case jose::Alg::PS256: return crypto::KeyType::Rsa;
    case jose::Alg::ES256: return crypto::KeyType::Ec;
    case jose::Alg::EdDSA: return crypto::KeyType::Ed25519;
  }
  return crypto::KeyType::Rsa;
}

void wipe(std::string& s) {
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

// The validity rules, in one place for the AS and `fapigate keys`.
bool published_at(std::int64_t retire_after, std::int64_t now) {
  return retire_after == 0 || now <= retire_after;
}
bool may_sign(bool alg_matches, std::int64_t not_before, std::int64_t retire_after,
              std::int64_t now) {
  return alg_matches && not_before <= now && published_at(retire_after, now);
}
// "Newest" = latest not_before, then latest creation, then kid (a total order, so every AS
// instance reading the same rows picks the same key).
bool newer(std::int64_t nb1, std::int64_t c1, const std::string& k1, std::int64_t nb2,
           std::int64_t c2, const std::string& k2) {
  return std::tie(nb1, c1, k1) > std::tie(nb2, c2, k2);
}

// The AAD binds a sealed key to its row: the kid is length-prefixed so no (kid, alg) pair can
// be confused with another.
std::string aad_for(std::string_view kid, std::string_view alg) {
  std::string aad(kSealedKeyPrefix);
  aad += std::to_string(kid.size());
  aad += ':';
  aad += kid;
  aad += ':';
  aad += alg;
  return aad;
}

std::string_view trim_space(std::string_view s) {
  while (!s.empty() && std::strchr(" \t\r\n", s.front()) != nullptr) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::strchr(" \t\r\n", s.back()) != nullptr) {
    s.remove_suffix(1);
  }
  return s;
}

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

Result<std::string> read_kek_file(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) {
    log::error("kek_file_unreadable", {{"path", path}, {"error", std::strerror(errno)}});
    return make_error_code(SigningKeyErrc::KekUnreadable);
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    log::error("kek_file_unsafe", {{"path", path}, {"reason", "not a regular file"}});
    return make_error_code(SigningKeyErrc::KekFileUnsafe);
  }
  // Like ssh with a private key: a secret others can read (or replace) is refused outright.
  // Group access is common for service accounts (a secret volume with a shared group), so it
  // is only warned about.
  if ((st.st_mode & S_IRWXO) != 0) {
    log::error("kek_file_unsafe", {{"path", path},
                                   {"mode", octal_mode(st.st_mode)},
                                   {"hint", "chmod 600 the file; others must not access it"}});
    return make_error_code(SigningKeyErrc::KekFileUnsafe);
  }
  if ((st.st_mode & S_IRWXG) != 0) {
    log::warn("kek_file_group_accessible", {{"path", path}, {"mode", octal_mode(st.st_mode)}});
  }
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > kMaxKekFileBytes) {
    log::error("kek_malformed", {{"source", path}, {"reason", "file too large"}});
    return make_error_code(SigningKeyErrc::KekMalformed);
  }
  std::string text(kMaxKekFileBytes + 1, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(f.fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      wipe(text);
      log::error("kek_file_unreadable", {{"path", path}, {"error", std::strerror(errno)}});
      return make_error_code(SigningKeyErrc::KekUnreadable);
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  if (got > kMaxKekFileBytes) {  // grew after fstat
    wipe(text);
    log::error("kek_malformed", {{"source", path}, {"reason", "file too large"}});
    return make_error_code(SigningKeyErrc::KekMalformed);
  }
  text.resize(got);
  return text;
}

// A stored key as a private Key: sealed ones are opened with the KEK.
Result<crypto::Key> decode_key(const store::SigningKeyRecord& rec,
                               const std::optional<crypto::AeadKey>& kek) {
  if (is_sealed_key(rec.private_pem)) {
    if (!kek) {
      return make_error_code(SigningKeyErrc::KekMissing);
    }
    auto pem = open_private_key(*kek, rec.kid, rec.alg, rec.private_pem);
    if (!pem) {
      return pem.error();
    }
    auto key = crypto::Key::from_pem(*pem);
    wipe(*pem);
    if (!key || !key->is_private()) {
      return make_error_code(SigningKeyErrc::KeyUnusable);
    }
    return key;
  }
  auto key = crypto::Key::from_pem(rec.private_pem);
  if (!key || !key->is_private()) {
    return make_error_code(SigningKeyErrc::KeyUnusable);
  }
  return key;
}

// Why a key cannot be used, at the level the operator must act on.
void log_unusable(const std::string& kid, ErrorCode ec, bool fatal) {
  const bool kek_problem = ec == make_error_code(SigningKeyErrc::KekMissing) ||
                           ec == make_error_code(SigningKeyErrc::KekMismatch);
  std::initializer_list<log::Field> fields = {
      {"kid", kid},
      {"error", ec.message()},
      {"effect", fatal ? "refusing to start" : "key skipped (not published, not used)"}};
  if (kek_problem) {
    log::error("signing_key_decrypt_failed", fields);
  } else {
    log::warn("signing_key_unusable", fields);
  }
}

Result<std::string> stored_form(const std::optional<crypto::AeadKey>& kek, const std::string& kid,
                                std::string_view alg, std::string pem) {
  if (!kek) {
    return pem;
  }
  auto sealed = seal_private_key(*kek, kid, alg, pem);
  wipe(pem);
  return sealed;
}

}  // namespace

ErrorCode make_error_code(SigningKeyErrc e) {
  static const SigningKeyCategory category;
  return ErrorCode(static_cast<int>(e), category);
}

// ---- key-encryption key and envelope ---------------------------------------------------------

Result<std::optional<crypto::AeadKey>> load_key_encryption_key(
    const std::string& file, const std::optional<std::string>& env_value) {
  const bool env_set = env_value && !env_value->empty();
  if (!file.empty() && env_set) {
    // Two sources could hold two different keys; sealing under one and opening under the
    // other would lock the AS out of its own keys. Make the operator choose.
    log::error("kek_ambiguous", {{"file", file}, {"env", kKekEnvironmentVariable}});
    return make_error_code(SigningKeyErrc::KekAmbiguous);
  }
  std::string text;
  std::string source;
  if (!file.empty()) {
    auto read = read_kek_file(file);
    if (!read) {
      return read.error();
    }
    text = std::move(*read);
    source = file;
  } else if (env_set) {
    text = *env_value;
    source = std::string(kKekEnvironmentVariable);
  } else {
    return std::optional<crypto::AeadKey>();
  }
  auto raw = core::base64_decode(trim_space(text));
  wipe(text);
  if (!raw) {
    log::error("kek_malformed", {{"source", source}, {"reason", "not base64 (RFC 4648 §4)"}});
    return make_error_code(SigningKeyErrc::KekMalformed);
  }
  auto key = crypto::AeadKey::from_bytes(*raw);
  const std::size_t size = raw->size();
  wipe(*raw);
  if (!key) {
    log::error("kek_malformed", {{"source", source},
                                 {"reason", "decodes to " + std::to_string(size) +
                                                " bytes, expected 32"}});
    return make_error_code(SigningKeyErrc::KekMalformed);
  }
  log::info("kek_loaded", {{"source", source}});
  return std::optional<crypto::AeadKey>(std::move(*key));
}

bool is_sealed_key(std::string_view stored) { return stored.starts_with(kSealedKeyPrefix); }

Result<std::string> seal_private_key(const crypto::AeadKey& kek, std::string_view kid,
                                     std::string_view alg, std::string_view pem) {
  auto sealed = crypto::seal(kek, pem, aad_for(kid, alg));
  if (!sealed) {
    return sealed.error();
  }
  return std::string(kSealedKeyPrefix) + core::base64url_encode(*sealed);
}

Result<std::string> open_private_key(const crypto::AeadKey& kek, std::string_view kid,
                                     std::string_view alg, std::string_view sealed) {
  if (!is_sealed_key(sealed)) {
    return make_error_code(SigningKeyErrc::KeyUnusable);
  }
  auto box = core::base64url_decode(sealed.substr(kSealedKeyPrefix.size()));
  if (!box) {
    return make_error_code(SigningKeyErrc::KekMismatch);
  }
  auto pem = crypto::open(kek, *box, aad_for(kid, alg));
  if (!pem) {
    // Wrong KEK and altered row are indistinguishable by design (GCM tells only "not authentic").
    return make_error_code(SigningKeyErrc::KekMismatch);
  }
  return pem;
}

// ---- rules -----------------------------------------------------------------------------------

std::string_view key_state_name(KeyState s) {
  switch (s) {
    case KeyState::Pending: return "pending";
    case KeyState::Signing: return "signing";
    case KeyState::Verifying: return "verifying";
    case KeyState::Retired: return "retired";
  }
  return "unknown";
}

std::vector<KeyState> key_states(const std::vector<store::SigningKeyRecord>& records,
                                 jose::Alg alg, std::int64_t now) {
  return key_states(records, jose::AlgList{alg}, now);
}

std::vector<KeyState> key_states(const std::vector<store::SigningKeyRecord>& records,
                                 const jose::AlgList& algs, std::int64_t now) {
  std::vector<KeyState> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    if (!published_at(r.retire_after, now)) {
      out.push_back(KeyState::Retired);
    } else {
      out.push_back(r.not_before > now ? KeyState::Pending : KeyState::Verifying);
    }
  }
  for (jose::Alg alg : algs) {
    std::size_t signing = records.size();
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& r = records[i];
      auto rec_alg = jose::parse_alg(r.alg);
      if (may_sign(rec_alg && *rec_alg == alg, r.not_before, r.retire_after, now) &&
          (signing == records.size() ||
           newer(r.not_before, r.created_at, r.kid, records[signing].not_before,
                 records[signing].created_at, records[signing].kid))) {
        signing = i;
      }
    }
    if (signing < records.size()) {
      out[signing] = KeyState::Signing;
    }
  }
  return out;
}

Result<RotateResult> rotate_signing_keys(store::KeyStore& store, const RotateOptions& options,
                                         std::int64_t now) {
  auto records = store.list_signing_keys();
  if (!records) {
    return records.error();
  }
  // Every key the servers still publish must open under this KEK: otherwise the new key would
  // be sealed under a key the servers do not hold, and they would go on signing with a key
  // this rotation is about to retire.
  for (const auto& rec : *records) {
    if (!published_at(rec.retire_after, now) || !is_sealed_key(rec.private_pem)) {
      continue;
    }
    auto key = decode_key(rec, options.kek);
    if (!key) {
      log_unusable(rec.kid, key.error(), true);
      return key.error();
    }
  }
  auto key = crypto::Key::generate(key_type_for(options.alg));
  if (!key) {
    return key.error();
  }
  auto jwk = jose::make_jwk(key->public_only(), "", options.alg);
  RotateResult out;
  const std::string alg_name(jose::alg_name(options.alg));
  out.new_kid = jose::thumbprint(jwk);
  out.not_before = now + options.publish_ahead;

  store::SigningKeyRecord rec;
  rec.kid = out.new_kid;
  rec.alg = std::string(jose::alg_name(options.alg));
  auto stored = stored_form(options.kek, rec.kid, rec.alg, key->private_pem());
  if (!stored) {
    return stored.error();
  }
  rec.private_pem = std::move(*stored);
  rec.created_at = now;
  rec.not_before = out.not_before;
  // Published first, retirements second: if the process dies in between, the new key still
  // takes over at not_before (it is the newest) and the old ones are merely published longer.
  if (auto put = store.put_signing_key(rec); !put) {
    return put.error();
  }
  log::info("signing_key_rotated", {{"kid", out.new_kid},
                                    {"alg", rec.alg},
                                    {"not_before", static_cast<long long>(out.not_before)},
                                    {"encrypted", options.kek.has_value()}});
  const std::int64_t retire_after = out.not_before + options.retire_margin;
  for (auto old : *records) {
    if (old.retire_after != 0 || old.alg != alg_name) {
      continue;  // already retiring or retired; or another alg's key, which rotates on its own
    }
    old.retire_after = retire_after;
    if (auto put = store.put_signing_key(old); !put) {
      return put.error();
    }
    log::info("signing_key_retiring",
              {{"kid", old.kid}, {"retire_after", static_cast<long long>(retire_after)}});
    out.retiring.emplace_back(old.kid, retire_after);
  }
  return out;
}

// ---- SigningKeys -----------------------------------------------------------------------------

SigningKeys::SigningKeys(store::KeyStore& store, Options options, const core::Clock& clock)
    : store_(&store), clock_(&clock), options_(std::move(options)) {}

SigningKeys::~SigningKeys() = default;

Result<std::shared_ptr<const SigningKeys>> SigningKeys::load_or_create(store::KeyStore& store,
                                                                      jose::Alg alg,
                                                                      const core::Clock& clock) {
  Options options;
  options.alg = alg;
  return load_or_create(store, std::move(options), clock);
}

Result<std::shared_ptr<const SigningKeys>> SigningKeys::load_or_create(store::KeyStore& store,
                                                                      Options options,
                                                                      const core::Clock& clock) {
  options.refresh_interval = std::max<std::int64_t>(options.refresh_interval, 1);
  const bool encrypted = options.kek.has_value();
  auto keys = std::shared_ptr<SigningKeys>(new SigningKeys(store, std::move(options), clock));
  const std::int64_t now = clock.now();
  {
    std::lock_guard lock(keys->mu_);
    if (auto r = keys->reload_locked(now, true); !r) {
      return r.error();
    }
    if (auto r = keys->rebuild_locked(now, true); !r) {
      return r.error();
    }
  }
  keys->next_refresh_.store(now + keys->options_.refresh_interval);
  if (!encrypted) {
    log::warn("signing_keys_unencrypted", {{"message", kUnencryptedMessage}});
  }
  return std::shared_ptr<const SigningKeys>(std::move(keys));
}

std::shared_ptr<const SigningKeys::View> SigningKeys::view() const {
  auto v = view_.load(std::memory_order_acquire);
  const std::int64_t now = clock_->now();
  if (now < valid_until_.load(std::memory_order_acquire) &&
      now < next_refresh_.load(std::memory_order_relaxed)) {
    return v;
  }
  return update(now);
}

std::shared_ptr<const SigningKeys::View> SigningKeys::update(std::int64_t now) const {
  std::unique_lock lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    // Another request is re-reading or rebuilding; this one goes on with the current view
    // (at worst it signs with the outgoing key a moment longer, which stays published).
    return view_.load(std::memory_order_acquire);
  }
  bool reloaded = false;
  if (now >= next_refresh_.load(std::memory_order_relaxed)) {
    next_refresh_.store(now + options_.refresh_interval, std::memory_order_relaxed);
    reloaded = reload_locked(now, false).has_value();  // failures are logged; keys stay loaded
  }
  if (reloaded || now >= valid_until_.load(std::memory_order_acquire)) {
    (void)rebuild_locked(now, false);  // cannot fail after start (logged)
  }
  return view_.load(std::memory_order_acquire);
}

Result<void> SigningKeys::refresh() const {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_->now();
  next_refresh_.store(now + options_.refresh_interval, std::memory_order_relaxed);
  auto r = reload_locked(now, false);
  (void)rebuild_locked(now, false);
  return r;
}

Result<void> SigningKeys::reload_locked(std::int64_t now, bool at_start) const {
  auto records = store_->list_signing_keys();
  if (!records) {
    log::warn("signing_keys_refresh_failed", {{"error", records.error().message()}});
    return records.error();
  }
  std::vector<Loaded> next;
  ErrorCode fatal_error;
  for (auto& rec : *records) {
    // With a KEK, a key found in clear (written before the KEK was set, or by a tool run
    // without it) is sealed in place. Retired keys too: leaked, they could still forge tokens
    // for anyone caching an old JWKS.
    if (options_.kek && !is_sealed_key(rec.private_pem)) {
      auto sealed = seal_private_key(*options_.kek, rec.kid, rec.alg, rec.private_pem);
      auto swapped = sealed ? store_->replace_signing_key_material(rec.kid, rec.private_pem,
                                                                   *sealed)
                            : Result<bool>(boost::system::in_place_error, sealed.error());
      if (!swapped) {
        log::error("signing_key_encrypt_failed",
                   {{"kid", rec.kid}, {"error", swapped.error().message()}});
        if (at_start) {
          return swapped.error();
        }
      } else if (*swapped) {
        log::info("signing_key_encrypted", {{"kid", rec.kid}});
        rec.private_pem = std::move(*sealed);
      }
      // Not swapped: the row changed under us (another process); the next refresh sees it.
    }
    if (!published_at(rec.retire_after, now)) {
      continue;
    }
    // A kid is the thumbprint of its key, so material once decoded is reused; only the
    // validity window can change (a rotation retiring this key).
    auto known = std::find_if(keys_.begin(), keys_.end(), [&](const Loaded& l) {
      return l.kid == rec.kid && l.alg_name == rec.alg;
    });
    if (known != keys_.end()) {
      Loaded l = *known;
      l.created_at = rec.created_at;
      l.not_before = rec.not_before;
      l.retire_after = rec.retire_after;
      next.push_back(std::move(l));
      continue;
    }
    auto alg = jose::parse_alg(rec.alg);
    auto key = alg ? decode_key(rec, options_.kek)
                   : Result<crypto::Key>(make_error_code(SigningKeyErrc::KeyUnusable));
    std::shared_ptr<const crypto::Signer> signer;
    if (key) {
      auto s = crypto::Signer::create(*alg, *key);
      if (s) {
        signer = *s;
      } else {
        key = make_error_code(SigningKeyErrc::KeyUnusable);
      }
    }
    if (!key) {
      const ErrorCode ec = key.error();
      const bool fatal = at_start && (ec == make_error_code(SigningKeyErrc::KekMissing) ||
                                      ec == make_error_code(SigningKeyErrc::KekMismatch));
      // Logged once per row value: a refresh every few seconds must not flood the log.
      if (fatal || failed_.insert(rec.kid + "\n" + rec.private_pem).second) {
        log_unusable(rec.kid, ec, fatal);
      }
      if (fatal) {
        // Every key that cannot be opened is named before refusing, not only the first.
        if (!fatal_error) {
          fatal_error = ec;
        }
      }
      continue;
    }
    Loaded l;
    l.kid = rec.kid;
    l.alg_name = rec.alg;
    l.alg = *alg;
    l.created_at = rec.created_at;
    l.not_before = rec.not_before;
    l.retire_after = rec.retire_after;
    l.jwk = jose::make_jwk(key->public_only(), rec.kid, *alg);
    l.jwk.use = "sig";
    l.signer = std::move(signer);
    if (!at_start) {
      log::info("signing_key_loaded", {{"kid", l.kid},
                                       {"alg", l.alg_name},
                                       {"not_before", static_cast<long long>(l.not_before)}});
    }
    next.push_back(std::move(l));
  }
  if (fatal_error) {
    return fatal_error;
  }
  keys_ = std::move(next);
  return {};
}

Result<void> SigningKeys::generate_locked(jose::Alg alg, std::int64_t now) const {
  auto key = crypto::Key::generate(key_type_for(alg));
  if (!key) {
    return key.error();
  }
  Loaded l;
  l.alg = alg;
  l.alg_name = std::string(jose::alg_name(alg));
  l.jwk = jose::make_jwk(key->public_only(), "", alg);
  l.kid = jose::thumbprint(l.jwk);
  l.jwk.kid = l.kid;
  l.jwk.use = "sig";
  l.created_at = now;
  l.not_before = now;
  auto signer = crypto::Signer::create(alg, *key);
  if (!signer) {
    return signer.error();
  }
  l.signer = *signer;
  auto stored = stored_form(options_.kek, l.kid, l.alg_name, key->private_pem());
  if (!stored) {
    return stored.error();
  }
  store::SigningKeyRecord rec;
  rec.kid = l.kid;
  rec.alg = l.alg_name;
  rec.private_pem = std::move(*stored);
  rec.created_at = now;
  rec.not_before = now;
  if (auto put = store_->put_signing_key(rec); !put) {
    return put.error();
  }
  log::info("signing_key_created",
            {{"kid", l.kid}, {"alg", l.alg_name}, {"encrypted", options_.kek.has_value()}});
  keys_.push_back(std::move(l));
  // The store lists keys by (created_at, kid); keep the same order here so that the JWKS a
  // process publishes right after generating keys is byte-identical to the one after a restart.
  std::sort(keys_.begin(), keys_.end(), [](const Loaded& a, const Loaded& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.kid < b.kid;
  });
  return {};
}

Result<void> SigningKeys::rebuild_locked(std::int64_t now, bool at_start) const {
  auto pick = [&](jose::Alg alg) -> const Loaded* {
    const Loaded* best = nullptr;
    for (const auto& k : keys_) {
      if (may_sign(k.alg == alg, k.not_before, k.retire_after, now) &&
          (!best ||
           newer(k.not_before, k.created_at, k.kid, best->not_before, best->created_at, best->kid))) {
        best = &k;
      }
    }
    return best;
  };
  jose::AlgList algs{options_.alg};
  for (jose::Alg a : options_.extra_algs) {
    if (std::find(algs.begin(), algs.end(), a) == algs.end()) {
      algs.push_back(a);
    }
  }
  // First start, a changed signing_alg, a newly kept alg, or every key of an alg retired
  // without a successor: a key is made for it. keys_ may grow here, so the picks come after.
  for (jose::Alg a : algs) {
    if (pick(a) != nullptr) {
      continue;
    }
    if (auto g = generate_locked(a, now); !g) {
      log::error("signing_key_generation_failed",
                 {{"alg", jose::alg_name(a)}, {"error", g.error().message()}});
      if (at_start) {
        return g.error();
      }
    }
  }
  const Loaded* signing = pick(options_.alg);
  std::vector<AlgSigner> by_alg;
  for (jose::Alg a : algs) {
    if (const Loaded* k = pick(a)) {
      by_alg.push_back(AlgSigner{a, k->kid, k->signer});
    }
  }

  std::int64_t valid_until = kNever;
  std::vector<std::string> kids;
  for (const auto& k : keys_) {
    if (k.not_before > now) {
      valid_until = std::min(valid_until, k.not_before);
    }
    if (k.retire_after != 0 && k.retire_after >= now && k.retire_after < kNever) {
      valid_until = std::min(valid_until, k.retire_after + 1);
    }
    if (published_at(k.retire_after, now)) {
      kids.push_back(k.kid);
    }
  }

  auto current = view_.load(std::memory_order_acquire);
  auto v = std::make_shared<View>();
  if (signing) {
    v->kid = signing->kid;
    v->alg = signing->alg;
    v->signer = signing->signer;
  } else if (current) {
    // Nothing can sign and no key could be made: keep signing with the last key rather than
    // not at all; the error is logged above.
    v->kid = current->kid;
    v->alg = current->alg;
    v->signer = current->signer;
    if (std::find(kids.begin(), kids.end(), v->kid) == kids.end()) {
      kids.push_back(v->kid);
    }
  } else {
    return make_error_code(SigningKeyErrc::KeyUnusable);
  }
  if (signing == nullptr && current) {
    // Keep the last primary signer among the per-alg ones too.
    auto same = [&](const AlgSigner& s) { return s.alg == current->alg; };
    if (std::none_of(by_alg.begin(), by_alg.end(), same)) {
      by_alg.insert(by_alg.begin(), AlgSigner{current->alg, current->kid, current->signer});
    }
  }
  v->by_alg = std::move(by_alg);
  auto same_signers = [&](const std::vector<AlgSigner>& a) {
    return a.size() == v->by_alg.size() &&
           std::equal(a.begin(), a.end(), v->by_alg.begin(), [](const auto& x, const auto& y) {
             return x.alg == y.alg && x.kid == y.kid;
           });
  };
  if (current && current->kid == v->kid && current->published_kids == kids &&
      same_signers(current->by_alg)) {
    valid_until_.store(valid_until, std::memory_order_release);
    return {};
  }
  jose::Jwks published;
  for (const auto& k : keys_) {
    if (std::find(kids.begin(), kids.end(), k.kid) != kids.end()) {
      published.keys.push_back(k.jwk);
    }
  }
  v->jwks_json = jose::to_json_string(published, false);
  v->verifiers = std::make_shared<const jose::VerifierSet>(published);
  v->published_kids = std::move(kids);
  if (current && current->kid != v->kid) {
    log::info("signing_key_activated", {{"kid", v->kid}, {"previous", current->kid}});
  }
  if (current && current->published_kids != v->published_kids) {
    log::info("jwks_changed", {{"keys", static_cast<unsigned long>(v->published_kids.size())}});
  }
  std::shared_ptr<const View> frozen = std::move(v);
  history_.push_back(frozen);  // keeps references from the accessors valid (see header)
  view_.store(frozen, std::memory_order_release);
  valid_until_.store(valid_until, std::memory_order_release);
  return {};
}

}  // namespace fapigate::as
