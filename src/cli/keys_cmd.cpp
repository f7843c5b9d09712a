// `fapigate keys rotate -c FILE` and `fapigate keys list -c FILE`: the AS's signing keys in the
// store the configuration names, changed while the servers run (they re-read the store every
// key_refresh_interval). Neither command prints or logs key material.
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>

#include "as/signing_keys.hpp"
#include "cli/commands.hpp"
#include "config/loader.hpp"
#include "core/clock.hpp"
#include "jose/alg.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace fapigate::cli {
namespace {

// Loads and validates the file; prints every problem (STYLE.md §4.6).
bool load_config(const std::string& path, config::Config& out, const char* command) {
  auto loaded = config::load_file(path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) {
      std::cerr << "fapigate keys " << command << ": " << e << "\n";
    }
    return false;
  }
  if (!loaded.config.authorization_server.enabled) {
    std::cerr << "fapigate keys " << command << ": " << path
              << ": authorization_server.enabled: the authorization server is not enabled, it "
                 "has no signing keys\n";
    return false;
  }
  out = std::move(loaded.config);
  return true;
}

std::string utc(std::int64_t t) {
  if (t == 0) {
    return "-";
  }
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (::gmtime_r(&tt, &tm) == nullptr) {
    return std::to_string(t);
  }
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::optional<std::string> kek_from_environment() {
  const char* v = std::getenv(std::string(as::kKekEnvironmentVariable).c_str());
  if (v == nullptr || *v == '\0') {
    return std::nullopt;
  }
  return std::string(v);
}

int run_keys_rotate(const std::string& config_path) {
  config::Config cfg;
  if (!load_config(config_path, cfg, "rotate")) {
    return 2;
  }
  const auto& as_cfg = cfg.authorization_server;
  auto alg = jose::parse_alg(as_cfg.signing_alg);
  if (!alg) {
    std::cerr << "fapigate keys rotate: unsupported signing_alg " << as_cfg.signing_alg << "\n";
    return 2;
  }
  auto kek = as::load_key_encryption_key(as_cfg.key_encryption_key_file, kek_from_environment());
  if (!kek) {
    std::cerr << "fapigate keys rotate: " << kek.error().message() << "\n";
    return 2;
  }
  auto store = store::open_sqlite_store(cfg.store.sqlite_path);
  if (!store) {
    std::cerr << "fapigate keys rotate: cannot open the store " << cfg.store.sqlite_path << ": "
              << store.error().message() << "\n";
    return 1;
  }
  const core::SystemClock clock;
  const std::int64_t now = clock.now();

  as::RotateOptions options;
  options.alg = *alg;
  options.kek = std::move(*kek);
  options.publish_ahead = as_cfg.key_publish_ahead;
  // The outgoing key stays published while tokens it signed may still be presented: it may
  // sign until the new key's not_before (plus one refresh interval for a server that has not
  // re-read the store yet), and each token lives access_token_lifetime.
  options.retire_margin = as_cfg.key_refresh_interval + as_cfg.access_token_lifetime;
  auto existing = (*store)->list_signing_keys();
  if (!existing) {
    std::cerr << "fapigate keys rotate: " << existing.error().message() << "\n";
    return 1;
  }
  const bool encrypted = options.kek.has_value();
  const std::int64_t publish_ahead = options.publish_ahead;
  // The AS keeps a key per alg (the configured one for access tokens, every allowed one for ID
  // tokens, see AsService): each is rotated, the configured alg first.
  jose::AlgList algs{*alg};
  for (jose::Alg a : jose::kAllAlgs) {
    if (a != *alg) {
      algs.push_back(a);
    }
  }
  for (jose::Alg a : algs) {
    const std::string name(jose::alg_name(a));
    bool any_published = false;
    for (const auto& r : *existing) {
      any_published = any_published || (r.alg == name && (r.retire_after == 0 ||
                                                          now <= r.retire_after));
    }
    options.alg = a;
    // No key of this alg is published, so no relying party can have cached one: nothing to
    // wait for.
    options.publish_ahead = any_published ? publish_ahead : 0;
    auto rotated = as::rotate_signing_keys(**store, options, now);
    if (!rotated) {
      std::cerr << "fapigate keys rotate: " << rotated.error().message() << "\n";
      return 1;
    }
    std::cout << "new key " << rotated->new_kid << " (" << name << "): published now, signs from "
              << utc(rotated->not_before) << " (in " << rotated->not_before - now << " s)\n";
    for (const auto& [kid, retire_after] : rotated->retiring) {
      std::cout << "key " << kid << ": signs until then, published until " << utc(retire_after)
                << "\n";
    }
  }
  if (!encrypted) {
    std::cerr << "fapigate keys rotate: warning: signing keys are stored unencrypted: set "
                 "key_encryption_key_file or FAPIGATE_KEK\n";
  }
  return 0;
}

int run_keys_list(const std::string& config_path) {
  config::Config cfg;
  if (!load_config(config_path, cfg, "list")) {
    return 2;
  }
  auto alg = jose::parse_alg(cfg.authorization_server.signing_alg);
  if (!alg) {
    return 2;
  }
  store::SqliteOptions ro;
  ro.read_only = true;
  auto store = store::open_sqlite_store(cfg.store.sqlite_path, ro);
  if (!store) {
    std::cerr << "fapigate keys list: cannot open the store " << cfg.store.sqlite_path << ": "
              << store.error().message() << "\n";
    return 1;
  }
  auto records = (*store)->list_signing_keys();
  if (!records) {
    std::cerr << "fapigate keys list: " << records.error().message() << "\n";
    return 1;
  }
  const core::SystemClock clock;
  jose::AlgList algs{*alg};
  for (jose::Alg a : jose::kAllAlgs) {
    if (a != *alg) {
      algs.push_back(a);
    }
  }
  auto states = as::key_states(*records, algs, clock.now());
  std::cout << std::left << std::setw(44) << "kid" << "  " << std::setw(6) << "alg" << "  "
            << std::setw(9) << "state" << "  " << std::setw(20) << "not_before" << "  "
            << std::setw(20) << "retire_after" << "  at rest\n";
  for (std::size_t i = 0; i < records->size(); ++i) {
    const auto& r = (*records)[i];
    std::cout << std::left << std::setw(44) << r.kid << "  " << std::setw(6) << r.alg << "  "
              << std::setw(9) << as::key_state_name(states[i]) << "  " << std::setw(20)
              << utc(r.not_before) << "  " << std::setw(20) << utc(r.retire_after) << "  "
              << (as::is_sealed_key(r.private_pem) ? "encrypted" : "CLEAR") << "\n";
  }
  return 0;
}

}  // namespace fapigate::cli
