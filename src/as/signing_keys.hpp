// The AS's signing keys. Every key lives in the store with a validity window: it is published
// in the JWKS from creation until `retire_after` (0: no end yet), and may sign from `not_before`.
// SigningKeys signs with the newest key (for the configured alg) whose not_before has passed
// and publishes every key not yet retired, including ones that do not sign yet, so relying
// parties learn a rotated key before any token carries its kid. The kid is the key's RFC 7638
// thumbprint.
//
// Time-aware and refreshed: the view (signer + JWKS) is an immutable snapshot swapped
// atomically; readers take it lock-free and it is rebuilt when the clock passes the next
// not_before / retire_after, or when `refresh_interval` has elapsed (the store is then re-read,
// picking up keys another process rotated). The rebuild happens on the request that notices,
// under a try-lock: concurrent readers keep the previous snapshot meanwhile, never block.
//
// At rest, private keys are sealed with AES-256-GCM under a key-encryption key (KEK) when one is
// configured: "fgk1:" + base64url(nonce || ciphertext || tag), AAD = the row's kid and alg.
// Key material never reaches a log line. Thread-safe; the store and the clock must outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "crypto/aead.hpp"
#include "crypto/signature.hpp"
#include "jose/alg.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "store/store.hpp"

namespace fapigate::as {

enum class SigningKeyErrc {
  KekAmbiguous = 1,  // both key_encryption_key_file and FAPIGATE_KEK are set
  KekFileUnsafe,     // the KEK file is not a regular file, or others may read or write it
  KekUnreadable,     // the KEK file cannot be read
  KekMalformed,      // the KEK is not base64 of exactly 32 bytes
  KekMissing,        // the store holds encrypted keys but no KEK is configured
  KekMismatch,       // a key does not decrypt under the KEK (wrong KEK, or the row was altered)
  KeyUnusable,       // a stored key is neither sealed nor a usable PKCS#8 PEM
};
ErrorCode make_error_code(SigningKeyErrc e);

// ---- key-encryption key and the at-rest envelope ---------------------------------------------

inline constexpr std::string_view kKekEnvironmentVariable = "FAPIGATE_KEK";
inline constexpr std::string_view kSealedKeyPrefix = "fgk1:";

// The KEK from `file` (configured path, may be empty) or else `env_value` (FAPIGATE_KEK as the
// caller read it; nullopt or empty when unset): base64 (RFC 4648 §4) of 32 bytes, surrounding
// whitespace ignored. Both set: KekAmbiguous. A file others can access: KekFileUnsafe (group
// access is only warned about). Neither set: nullopt (keys are then stored in clear).
[[nodiscard]] Result<std::optional<crypto::AeadKey>> load_key_encryption_key(
    const std::string& file, const std::optional<std::string>& env_value);

bool is_sealed_key(std::string_view stored);
// The envelope for a key's PKCS#8 PEM, bound to its kid and alg.
[[nodiscard]] Result<std::string> seal_private_key(const crypto::AeadKey& kek,
                                                   std::string_view kid, std::string_view alg,
                                                   std::string_view pem);
// The PEM back; KekMismatch when the KEK is wrong or the envelope, kid or alg was changed.
[[nodiscard]] Result<std::string> open_private_key(const crypto::AeadKey& kek,
                                                   std::string_view kid, std::string_view alg,
                                                   std::string_view sealed);

// ---- the rules, shared by the AS and `fapigate keys` -----------------------------------------

enum class KeyState {
  Pending,   // published, not yet allowed to sign (not_before in the future)
  Signing,   // the key the AS signs with now
  Verifying, // published for tokens it signed earlier (or another alg's key), no longer signs
  Retired,   // past retire_after: neither published nor used
};
std::string_view key_state_name(KeyState s);
// The state of each record at `now` for an AS configured with `alg` (same order as `records`).
std::vector<KeyState> key_states(const std::vector<store::SigningKeyRecord>& records,
                                 jose::Alg alg, std::int64_t now);
// The same for an AS that keeps a signing key for each of `algs` (one Signing key per alg).
std::vector<KeyState> key_states(const std::vector<store::SigningKeyRecord>& records,
                                 const jose::AlgList& algs, std::int64_t now);

struct RotateOptions {
  jose::Alg alg = jose::Alg::PS256;
  std::optional<crypto::AeadKey> kek;  // seals the new key; must open the existing ones
  std::int64_t publish_ahead = 300;    // new key's not_before = now + publish_ahead
  // Keys in use are published this long after the new key takes over: the access token
  // lifetime plus the store refresh interval (a running AS may keep signing with the old key
  // until it has re-read the store).
  std::int64_t retire_margin = 330;
};
struct RotateResult {
  std::string new_kid;
  std::int64_t not_before = 0;
  std::vector<std::pair<std::string, std::int64_t>> retiring;  // kid, retire_after
};
// Adds a new key for `alg` and schedules the retirement of every key of that alg that has no
// end yet (the other algs' keys keep signing: each alg rotates on its own).
// Refuses (KekMissing / KekMismatch, nothing written) when the KEK cannot open the store's
// current keys, so a rotation never writes a key the running servers could not read.
[[nodiscard]] Result<RotateResult> rotate_signing_keys(store::KeyStore& store,
                                                       const RotateOptions& options,
                                                       std::int64_t now);

// ---- the AS's view --------------------------------------------------------------------------

class SigningKeys {
public:
  struct Options {
    jose::Alg alg = jose::Alg::PS256;  // access tokens, and the default for everything else
    // Further algs to keep a signing key for (created at start when missing), e.g. ID tokens
    // for clients registered with id_token_signed_response_alg ES256 or EdDSA.
    jose::AlgList extra_algs;
    std::optional<crypto::AeadKey> kek;
    std::int64_t refresh_interval = 30;  // seconds between store re-reads
  };

  // The key that signs for one alg.
  struct AlgSigner {
    jose::Alg alg{};
    std::string kid;
    std::shared_ptr<const crypto::Signer> signer;  // never null
  };

  // One consistent moment: the key that signs and what the JWKS publishes.
  struct View {
    std::string kid;
    jose::Alg alg{};
    std::shared_ptr<const crypto::Signer> signer;  // never null
    std::string jwks_json;                          // {"keys":[...]}, public members only
    std::shared_ptr<const jose::VerifierSet> verifiers;
    std::vector<std::string> published_kids;
    std::vector<AlgSigner> by_alg;  // the configured alg first, then extra_algs that have a key

    // The signing key for `a`, or nullptr when the AS keeps none for it.
    const AlgSigner* signer_for(jose::Alg a) const {
      for (const auto& s : by_alg) {
        if (s.alg == a) {
          return &s;
        }
      }
      return nullptr;
    }
  };

  // Loads the store's keys (encrypting any found in clear when a KEK is set); when none can
  // sign with `alg`, generates one and stores it. Errors: store failures, KekMissing or
  // KekMismatch for a key still published (logged with its kid), key generation failures.
  [[nodiscard]] static Result<std::shared_ptr<const SigningKeys>> load_or_create(
      store::KeyStore& store, Options options, const core::Clock& clock);
  // No KEK, default refresh interval.
  [[nodiscard]] static Result<std::shared_ptr<const SigningKeys>> load_or_create(
      store::KeyStore& store, jose::Alg alg, const core::Clock& clock);

  ~SigningKeys();
  SigningKeys(const SigningKeys&) = delete;
  SigningKeys& operator=(const SigningKeys&) = delete;

  // The current view. Callers that need two facts from one moment (the kid and the signer of
  // one token) take the view once.
  std::shared_ptr<const View> view() const;

  // Shorthands on the current view. References stay valid for the lifetime of this object
  // (every view ever built is kept; there are a handful per rotation), but two calls may see
  // two different views across a key switch.
  const std::string& current_kid() const { return view()->kid; }
  jose::Alg current_alg() const { return view()->alg; }
  const crypto::Signer& signer() const { return *view()->signer; }
  const std::string& jwks_json() const { return view()->jwks_json; }
  // Verification of the AS's own tokens (introspection).
  const jose::VerifierSet& verifiers() const { return *view()->verifiers; }

  // Re-reads the store now instead of at the next interval. Store errors are returned (the
  // previous view stays); keys that do not decrypt are skipped and logged once.
  [[nodiscard]] Result<void> refresh() const;

private:
  struct Loaded;
  SigningKeys(store::KeyStore& store, Options options, const core::Clock& clock);

  Result<void> reload_locked(std::int64_t now, bool at_start) const;
  Result<void> generate_locked(jose::Alg alg, std::int64_t now) const;
  Result<void> rebuild_locked(std::int64_t now, bool at_start) const;
  std::shared_ptr<const View> update(std::int64_t now) const;

  store::KeyStore* store_;
  const core::Clock* clock_;
  Options options_;

  mutable std::mutex mu_;  // held by the one thread reloading / rebuilding
  mutable std::vector<Loaded> keys_;
  mutable std::set<std::string> failed_;  // "kid\n" + stored value already logged as unusable
  mutable std::vector<std::shared_ptr<const View>> history_;

  mutable std::atomic<std::shared_ptr<const View>> view_;
  mutable std::atomic<std::int64_t> valid_until_{0};   // the view changes at this second
  mutable std::atomic<std::int64_t> next_refresh_{0};  // the store is re-read at this second
};

}  // namespace fapigate::as

template <>
struct boost::system::is_error_code_enum<fapigate::as::SigningKeyErrc> : std::true_type {};
