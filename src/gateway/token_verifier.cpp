#include "gateway/token_verifier.hpp"

#include "core/json.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "jose/jose_errc.hpp"
#include "jose/jws.hpp"
#include "jose/jwt_claims.hpp"

namespace fapigate::gw {
namespace {

GwErrc from_jose(const ErrorCode& ec) {
  using jose::JoseErrc;
  if (ec == JoseErrc::AlgNotAllowed || ec == JoseErrc::AlgMissing ||
      ec == JoseErrc::AlgKeyMismatch || ec == JoseErrc::CritUnsupported) {
    return GwErrc::AlgNotAllowed;
  }
  if (ec == JoseErrc::IssuerMismatch) return GwErrc::IssuerUnknown;
  if (ec == JoseErrc::AudienceMismatch) return GwErrc::AudienceMismatch;
  if (ec == JoseErrc::Expired) return GwErrc::Expired;
  if (ec == JoseErrc::NotYetValid || ec == JoseErrc::IssuedInFuture) return GwErrc::NotYetValid;
  if (ec == JoseErrc::ExpMissing || ec == JoseErrc::ClaimInvalid) return GwErrc::ClaimInvalid;
  if (ec == JoseErrc::BadSignature) return GwErrc::BadSignature;
  if (ec == JoseErrc::KidNotFound) return GwErrc::KidNotFound;
  return GwErrc::TokenMalformed;
}

// RFC 9068 §4: the typ header must be "at+jwt" (or its full media type).
bool is_access_token_typ(std::string_view typ) {
  return core::iequals(typ, "at+jwt") || core::iequals(typ, "application/at+jwt");
}

std::shared_ptr<const VerifiedToken> extract(const boost::json::object& claims,
                                             const std::string& issuer) {
  auto t = std::make_shared<VerifiedToken>();
  t->issuer = issuer;
  t->subject = std::string(core::get_string(claims, "sub").value_or(""));
  t->client_id = std::string(core::get_string(claims, "client_id").value_or(""));
  t->jti = std::string(core::get_string(claims, "jti").value_or(""));
  t->scopes = core::split_scopes(core::get_string(claims, "scope").value_or(""));
  t->expires_at = core::get_int(claims, "exp").value_or(0);
  if (auto it = claims.find("cnf"); it != claims.end()) {
    t->has_cnf = true;
    if (const auto* cnf = it->value().if_object()) {
      t->cnf_x5t_s256 = std::string(core::get_string(*cnf, "x5t#S256").value_or(""));
    }
  }
  return t;
}

struct Pending {
  std::string token_hash;
  jose::ParsedJws jws;
  boost::json::object claims;
  std::shared_ptr<IssuerKeys> issuer;
  std::function<void(VerifyResult)> done;
};

}  // namespace

TokenVerifier::TokenVerifier(std::vector<std::shared_ptr<IssuerKeys>> issuers,
                             std::size_t cache_entries, const core::Clock& clock)
    : cache_(cache_entries), clock_(clock) {
  for (auto& i : issuers) {
    issuers_.emplace(i->settings().issuer, std::move(i));
  }
}

void TokenVerifier::prefetch_all() {
  for (auto& [name, keys] : issuers_) {
    keys->prefetch();
  }
}

void TokenVerifier::verify(std::string token, std::function<void(VerifyResult)> done) {
  const std::int64_t now = clock_.now();
  std::string hash = crypto::sha256(token);
  if (auto hit = cache_.find(hash, now)) {
    done(std::move(hit));
    return;
  }

  auto parsed = jose::parse_compact(token, jose::kAllAlgs);
  if (!parsed) {
    done(make_error_code(from_jose(parsed.error())));
    return;
  }
  if (!is_access_token_typ(parsed->typ)) {
    done(make_error_code(GwErrc::TypMismatch));
    return;
  }
  auto claims = core::parse_json_object(parsed->payload, core::JsonLimits{16 * 1024, 8});
  if (!claims) {
    done(make_error_code(GwErrc::TokenMalformed));
    return;
  }
  auto iss = core::get_string(*claims, "iss");
  auto issuer = iss ? issuers_.find(*iss) : issuers_.end();
  if (issuer == issuers_.end()) {
    done(make_error_code(GwErrc::IssuerUnknown));
    return;
  }

  auto pending = std::make_shared<Pending>();
  pending->token_hash = std::move(hash);
  pending->jws = std::move(*parsed);
  pending->claims = std::move(*claims);
  pending->issuer = issuer->second;
  pending->done = std::move(done);
  std::string kid = pending->jws.kid;
  jose::Alg alg = pending->jws.alg;

  pending->issuer->find(std::move(kid), alg, [this, pending](KeyLookup found) {
    switch (found.outcome) {
      case KeyLookup::Outcome::Found: break;
      case KeyLookup::Outcome::NoSuchKey:
        return pending->done(make_error_code(GwErrc::KidNotFound));
      case KeyLookup::Outcome::AlgMismatch:
        // RFC 8725 §3.1: the key decides the algorithm family, never the header alone.
        return pending->done(make_error_code(GwErrc::AlgNotAllowed));
      case KeyLookup::Outcome::Unavailable:
        return pending->done(make_error_code(GwErrc::KeysUnavailable));
    }
    const auto& v = found.verifier;
    if (!v->verify(pending->jws.signing_input, pending->jws.signature)) {
      pending->done(make_error_code(GwErrc::BadSignature));
      return;
    }
    const auto& settings = pending->issuer->settings();
    jose::ClaimExpectations expect;
    expect.issuer = settings.issuer;
    expect.audiences = settings.audiences;
    expect.now = clock_.now();
    expect.skew_seconds = settings.clock_skew;
    expect.require_exp = true;
    if (auto checked = jose::check_claims(pending->claims, expect); !checked) {
      pending->done(make_error_code(from_jose(checked.error())));
      return;
    }
    auto verified = extract(pending->claims, settings.issuer);
    cache_.insert(pending->token_hash, verified, expect.now);
    pending->done(std::move(verified));
  });
}

}  // namespace fapigate::gw
