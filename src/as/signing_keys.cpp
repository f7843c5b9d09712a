#include "as/signing_keys.hpp"

#include "core/log.hpp"
#include "crypto/key.hpp"
#include "jose/jwk.hpp"

namespace fapigate::as {
namespace {

crypto::KeyType key_type_for(jose::Alg alg) {
  switch (alg) {
    case jose::Alg::PS256: return crypto::KeyType::Rsa;
    case jose::Alg::ES256: return crypto::KeyType::Ec;
    case jose::Alg::EdDSA: return crypto::KeyType::Ed25519;
  }
  return crypto::KeyType::Rsa;
}

}  // namespace

Result<std::shared_ptr<const SigningKeys>> SigningKeys::load_or_create(store::KeyStore& store,
                                                                      jose::Alg alg,
                                                                      const core::Clock& clock) {
  auto records = store.list_signing_keys();
  if (!records) {
    return records.error();
  }
  const std::int64_t now = clock.now();
  jose::Jwks published;
  const store::SigningKeyRecord* newest = nullptr;
  crypto::Key newest_key;

  for (const auto& rec : *records) {
    if (rec.retire_after != 0 && rec.retire_after < now) {
      continue;  // past its tokens' lifetime: no longer published
    }
    auto key = crypto::Key::from_pem(rec.private_pem);
    auto rec_alg = jose::parse_alg(rec.alg);
    if (!key || !rec_alg) {
      core::log::warn("signing_key_unusable", {{"kid", rec.kid}});
      continue;
    }
    published.keys.push_back(jose::make_jwk(key->public_only(), rec.kid, *rec_alg));
    const bool usable = *rec_alg == alg && rec.retire_after == 0 && rec.not_before <= now;
    if (usable && (!newest || rec.created_at > newest->created_at)) {
      newest = &rec;
      newest_key = *key;
    }
  }

  std::string kid;
  if (!newest) {
    auto key = crypto::Key::generate(key_type_for(alg));
    if (!key) {
      return key.error();
    }
    auto jwk = jose::make_jwk(key->public_only(), "", alg);
    kid = jose::thumbprint(jwk);
    jwk.kid = kid;
    store::SigningKeyRecord rec;
    rec.kid = kid;
    rec.alg = std::string(jose::alg_name(alg));
    rec.private_pem = key->private_pem();
    rec.created_at = now;
    rec.not_before = now;
    if (auto put = store.put_signing_key(rec); !put) {
      return put.error();
    }
    core::log::info("signing_key_created", {{"kid", kid}, {"alg", rec.alg}});
    published.keys.push_back(std::move(jwk));
    newest_key = *key;
  } else {
    kid = newest->kid;
  }

  auto signer = crypto::Signer::create(alg, newest_key);
  if (!signer) {
    return signer.error();
  }
  auto keys = std::shared_ptr<SigningKeys>(new SigningKeys());
  keys->current_kid_ = kid;
  keys->current_alg_ = alg;
  keys->signer_ = *signer;
  keys->jwks_json_ = jose::to_json_string(published, false);
  keys->verifiers_ = std::make_unique<jose::VerifierSet>(published);
  return std::shared_ptr<const SigningKeys>(std::move(keys));
}

}  // namespace fapigate::as
