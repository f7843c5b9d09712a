#include "gateway/upstream_token.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "core/files.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"

namespace fapigate::gw {
namespace {

namespace json = boost::json;

// A private key file: PEM or one JWK, far below this.
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

Result<crypto::Key> load_key(const std::string& file) {
  auto read = core::read_file_bounded(file, kMaxKeyFileBytes);
  if (!read) {
    return read.error();
  }
  const std::string& text = *read;
  if (text.find("-----BEGIN") != std::string::npos) {
    return crypto::Key::from_pem(text);
  }
  auto jwk = jose::parse_jwk(text);
  if (!jwk) {
    return jwk.error();
  }
  return std::move(jwk->key);
}

std::optional<crypto::SignatureAlg> alg_for(const crypto::Key& key) {
  switch (key.type()) {
    case crypto::KeyType::Rsa:
      return crypto::SignatureAlg::PS256;
    case crypto::KeyType::Ec:
      return crypto::SignatureAlg::ES256;
    case crypto::KeyType::Ed25519:
      return crypto::SignatureAlg::EdDSA;
  }
  return std::nullopt;
}

}  // namespace

Result<std::shared_ptr<UpstreamTokenSigner>> UpstreamTokenSigner::create(
    const config::UpstreamTokenSigning& settings, std::size_t cache_entries,
    const core::Clock& clock) {
  auto key = load_key(settings.key_file);
  if (!key) {
    return key.error();
  }
  auto alg = alg_for(*key);
  if (!key->is_private() || !alg || !crypto::key_fits(*alg, *key)) {
    return make_error_code(boost::system::errc::invalid_argument);
  }
  auto signer = crypto::Signer::create(*alg, *key);
  if (!signer) {
    return signer.error();
  }
  jose::Jwk pub = jose::make_jwk(key->public_only(), settings.kid, *alg);
  if (pub.kid.empty()) {
    pub.kid = jose::thumbprint(pub);
  }
  pub.use = "sig";
  jose::Jwks set;
  std::string kid = pub.kid;
  set.keys.push_back(std::move(pub));
  return std::make_shared<UpstreamTokenSigner>(settings, std::move(*signer), std::move(kid),
                                               jose::to_json_string(set), cache_entries, clock);
}

UpstreamTokenSigner::UpstreamTokenSigner(config::UpstreamTokenSigning settings,
                                         std::shared_ptr<const crypto::Signer> signer,
                                         std::string kid, std::string jwks,
                                         std::size_t cache_entries, const core::Clock& clock)
    : settings_(std::move(settings)),
      signer_(std::move(signer)),
      kid_(std::move(kid)),
      jwks_(std::move(jwks)),
      cache_(cache_entries),
      clock_(clock) {}

Result<std::string> UpstreamTokenSigner::token_for(const VerifiedToken& token,
                                                   const std::string& audience) {
  const std::int64_t now = clock_.now();
  std::string key;
  if (!token.token_hash.empty()) {
    key.reserve(token.token_hash.size() + 1 + audience.size());
    key.append(token.token_hash).append(1, '\n').append(audience);
    if (auto hit = cache_.find(key, now)) {
      return hit->upstream_jwt;
    }
  }
  const std::int64_t exp = std::min(now + settings_.lifetime, token.expires_at);
  json::object claims;
  claims["iss"] = settings_.issuer;
  claims["aud"] = audience;
  if (!token.subject.empty()) {
    claims["sub"] = token.subject;
  }
  if (!token.client_id.empty()) {
    claims["client_id"] = token.client_id;
  }
  if (!token.scopes.empty()) {
    claims["scope"] = core::space_joined(token.scopes);
  }
  claims["iat"] = now;
  claims["exp"] = exp;
  claims["jti"] = crypto::unique_id(16);
  if (!token.cnf_x5t_s256.empty()) {
    claims["cnf"] = json::object{{"x5t#S256", token.cnf_x5t_s256}};
  }
  claims["token_iss"] = token.issuer;
  auto jwt = jose::sign_compact(json::serialize(claims), *signer_, kid_, "at+jwt");
  if (!jwt) {
    core::log::error("upstream_token_sign_failed", {{"error", jwt.error().message()}});
    return jwt.error();
  }
  // Reused until a margin before its exp, so an upstream never gets one about to lapse.
  const std::int64_t margin = std::min<std::int64_t>(10, (exp - now) / 4);
  if (!key.empty() && exp - margin > now) {
    auto entry = std::make_shared<VerifiedToken>();
    entry->upstream_jwt = *jwt;
    entry->expires_at = exp - margin;
    cache_.insert(key, std::move(entry), now);
  }
  return std::move(*jwt);
}

}  // namespace fapigate::gw
