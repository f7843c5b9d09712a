#include "gateway/token_verifier.hpp"

#include "core/json.hpp"
#include "core/log.hpp"
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

// RFC 9068 §4: what an access token's registered claims must say, for a JWT and for the
// claims of an introspected opaque token alike.
jose::ClaimExpectations expectations(const config::Issuer& settings, std::int64_t now) {
  jose::ClaimExpectations expect;
  expect.issuer = settings.issuer;
  expect.audiences = settings.audiences;
  expect.now = now;
  expect.skew_seconds = settings.clock_skew;
  expect.require_exp = true;
  return expect;
}

// Mutable for its caller, which may add what the claims do not say (the upstream JWT, how long
// a revocation check holds) before anyone else sees it.
std::shared_ptr<VerifiedToken> extract(const boost::json::object& claims,
                                             const std::string& issuer,
                                             const std::string& token_hash) {
  auto t = std::make_shared<VerifiedToken>();
  t->issuer = issuer;
  t->token_hash = token_hash;
  t->subject = std::string(core::get_string(claims, "sub").value_or(""));
  t->client_id = std::string(core::get_string(claims, "client_id").value_or(""));
  t->jti = std::string(core::get_string(claims, "jti").value_or(""));
  t->scopes = core::split_scopes(core::get_string(claims, "scope").value_or(""));
  t->expires_at = core::get_int(claims, "exp").value_or(0);
  if (auto it = claims.find("aud"); it != claims.end()) {
    if (const auto* one = it->value().if_string()) {
      t->audiences.emplace_back(*one);
    } else if (const auto* many = it->value().if_array()) {
      for (const auto& a : *many) {
        if (const auto* as = a.if_string()) {
          t->audiences.emplace_back(*as);
        }
      }
    }
  }
  t->claims = claims;
  if (auto it = claims.find("cnf"); it != claims.end()) {
    t->has_cnf = true;
    if (const auto* cnf = it->value().if_object()) {
      t->cnf_x5t_s256 = std::string(core::get_string(*cnf, "x5t#S256").value_or(""));
    }
  }
  return t;
}

struct Pending {
  std::string token;  // kept only for an issuer with jwt_revocation_check (introspected)
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
    if (i->settings().opaque_tokens && !opaque_issuer_) {
      opaque_issuer_ = i;
    }
    issuers_.emplace(i->settings().issuer, std::move(i));
  }
}

void TokenVerifier::prefetch_all() {
  for (auto& [name, keys] : issuers_) {
    keys->prefetch();
  }
}

void TokenVerifier::start_background_refresh(std::chrono::milliseconds tick) {
  if (refresher_ || tick.count() <= 0) {
    return;
  }
  std::vector<std::shared_ptr<IssuerKeys>> all;
  for (const auto& [name, keys] : issuers_) {
    keys->hold_unknown_kids_for_next_fetch(true);
    all.push_back(keys);
  }
  refresher_ = std::make_unique<KeyRefresher>(std::move(all), tick);
}

void TokenVerifier::verify(std::string_view token, std::function<void(VerifyResult)> done) {
  const std::int64_t now = clock_.now();
  std::string hash = crypto::sha256(token);
  if (auto hit = cache_.find(hash, now)) {
    if (hit->inactive) {
      done(make_error_code(GwErrc::TokenInactive));
      return;
    }
    done(std::move(hit));
    return;
  }
  // RFC 7515 §7.1: a JWS compact serialisation has exactly two dots; anything else that passed
  // the b64token check is an opaque reference token.
  if (opaque_issuer_ && token.find('.') == std::string_view::npos) {
    verify_opaque(std::move(hash), token, std::move(done));
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
  if (pending->issuer->settings().jwt_revocation_check > 0) {
    pending->token = std::string(token);
  }
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
    const jose::ClaimExpectations expect = expectations(settings, clock_.now());
    if (auto checked = jose::check_claims(pending->claims, expect); !checked) {
      pending->done(make_error_code(from_jose(checked.error())));
      return;
    }
    auto verified = extract(pending->claims, settings.issuer, pending->token_hash);
    if (settings.jwt_revocation_check > 0) {
      // FAPI 1.0 Part 1 §6.2.1 and FAPI 2.0 SP §5.3.4: the resource server checks revocation
      // too. A JWT says nothing about it, so its issuer is asked.
      check_not_revoked(std::move(verified), pending->issuer, std::move(pending->token),
                        std::move(pending->done));
      return;
    }
    cache_.insert(pending->token_hash, verified, expect.now);
    pending->done(std::move(verified));
  });
}

namespace {

constexpr std::size_t kMaxOpaqueToken = 4096;
constexpr std::size_t kMaxIntrospectionJwt = 32 * 1024;
// RFC 9701 §5: the typ of a signed introspection answer.
constexpr std::string_view kIntrospectionTyp = "token-introspection+jwt";

bool aud_names(const boost::json::object& claims, std::string_view who) {
  auto it = claims.find("aud");
  if (it == claims.end()) {
    return false;
  }
  if (const auto* s = it->value().if_string()) {
    return *s == who;
  }
  if (const auto* a = it->value().if_array()) {
    for (const auto& v : *a) {
      if (const auto* s = v.if_string(); s && *s == who) {
        return true;
      }
    }
  }
  return false;
}

struct IntrospectionPending {
  std::string token_hash;
  std::string answer;  // the RFC 9701 JWT
  jose::ParsedJws jws;
  std::shared_ptr<IssuerKeys> issuer;
  std::function<void(Result<TokenVerifier::SignedIntrospection>)> done;
};

}  // namespace

void TokenVerifier::introspect_signed(std::shared_ptr<IssuerKeys> issuer, std::string token,
                                      std::string hash,
                                      std::function<void(Result<SignedIntrospection>)> done) {
  auto pending = std::make_shared<IntrospectionPending>();
  pending->token_hash = std::move(hash);
  pending->issuer = std::move(issuer);
  pending->done = std::move(done);
  pending->issuer->introspect(token, [this, pending](Result<http::Response> r) {
    const auto& settings = pending->issuer->settings();
    if (!r || r->status != 200) {
      core::log::warn("introspection_failed",
                      {{"issuer", settings.issuer},
                       {"error", r ? "status " + std::to_string(r->status) : r.error().message()}});
      return pending->done(make_error_code(GwErrc::IntrospectionUnavailable));
    }
    auto type = r->headers.get("Content-Type").value_or("");
    if (type.substr(0, type.find(';')) != "application/token-introspection+jwt" ||
        r->body.size() > kMaxIntrospectionJwt) {
      // Only a signed answer is believed: a plain RFC 7662 JSON answer could come from anyone
      // on the path, and for an opaque token it would give the upstream nothing but the opaque
      // token, which must never leave the gateway.
      core::log::error("introspection_not_jwt", {{"issuer", settings.issuer}});
      return pending->done(make_error_code(GwErrc::IntrospectionUnavailable));
    }
    auto parsed = jose::parse_compact(core::trim(r->body), jose::kAllAlgs);
    if (!parsed || !core::iequals(parsed->typ, kIntrospectionTyp)) {
      core::log::error("introspection_jwt_invalid", {{"issuer", settings.issuer}});
      return pending->done(make_error_code(GwErrc::IntrospectionUnavailable));
    }
    pending->answer = std::string(core::trim(r->body));
    pending->jws = std::move(*parsed);
    std::string kid = pending->jws.kid;
    jose::Alg alg = pending->jws.alg;
    pending->issuer->find(std::move(kid), alg, [this, pending](KeyLookup found) {
      const auto& settings = pending->issuer->settings();
      // The answer is believed only with the issuer's own signature (RFC 9701 §5, §9).
      if (found.outcome != KeyLookup::Outcome::Found ||
          !found.verifier->verify(pending->jws.signing_input, pending->jws.signature)) {
        core::log::error("introspection_jwt_unverified", {{"issuer", settings.issuer}});
        return pending->done(make_error_code(GwErrc::IntrospectionUnavailable));
      }
      auto outer = core::parse_json_object(pending->jws.payload, core::JsonLimits{16 * 1024, 8});
      const std::int64_t now = clock_.now();
      auto iat = outer ? core::get_int(*outer, "iat") : std::nullopt;
      const auto* intro = outer ? core::get_object(*outer, "token_introspection") : nullptr;
      // RFC 9701 §5: iss is the issuer, aud this resource server (its client_id), iat now.
      if (!outer || core::get_string(*outer, "iss").value_or("") != settings.issuer ||
          !aud_names(*outer, settings.introspection_client_id) || !iat ||
          *iat > now + settings.clock_skew || *iat < now - 300 || !intro) {
        core::log::error("introspection_jwt_claims_invalid", {{"issuer", settings.issuer}});
        return pending->done(make_error_code(GwErrc::IntrospectionUnavailable));
      }
      auto active = intro->find("active");
      if (active == intro->end() || !active->value().is_bool() || !active->value().get_bool()) {
        // RFC 7662 §2.2: unknown, expired and revoked all read "inactive". Remembered briefly
        // so a replayed dead token does not cost the issuer a call each time.
        if (settings.introspection_inactive_cache > 0) {
          auto dead = std::make_shared<VerifiedToken>();
          dead->inactive = true;
          dead->expires_at = now + settings.introspection_inactive_cache;
          cache_.insert(pending->token_hash, std::move(dead), now);
        }
        return pending->done(make_error_code(GwErrc::TokenInactive));
      }
      pending->done(SignedIntrospection{*intro, std::move(pending->answer)});
    });
  });
}

void TokenVerifier::verify_opaque(std::string hash, std::string_view token,
                                  std::function<void(VerifyResult)> done) {
  if (token.size() > kMaxOpaqueToken) {
    done(make_error_code(GwErrc::TokenMalformed));
    return;
  }
  auto issuer = opaque_issuer_;
  introspect_signed(
      issuer, std::string(token), hash,
      [this, issuer, hash, done = std::move(done)](Result<SignedIntrospection> answer) {
        if (!answer) {
          return done(answer.error());
        }
        const auto& settings = issuer->settings();
        const jose::ClaimExpectations expect = expectations(settings, clock_.now());
        if (auto checked = jose::check_claims(answer->claims, expect); !checked) {
          return done(make_error_code(from_jose(checked.error())));
        }
        auto verified = extract(answer->claims, settings.issuer, hash);
        verified->upstream_jwt = std::move(answer->jwt);
        cache_.insert(hash, verified, expect.now);  // until the token's own exp
        done(std::move(verified));
      });
}

void TokenVerifier::check_not_revoked(std::shared_ptr<VerifiedToken> verified,
                                      std::shared_ptr<IssuerKeys> issuer, std::string token,
                                      std::function<void(VerifyResult)> done) {
  const std::int64_t interval = issuer->settings().jwt_revocation_check;
  std::string hash = verified->token_hash;
  introspect_signed(
      std::move(issuer), std::move(token), std::move(hash),
      [this, verified, interval, done = std::move(done)](Result<SignedIntrospection> answer) {
        if (!answer) {
          // Inactive: revoked (or unknown) at the issuer. Unavailable: without an answer the
          // token's state is unknown, and the operator asked for revocation to be enforced.
          return done(answer.error());
        }
        const std::int64_t now = clock_.now();
        // The "active" answer holds for `interval` seconds; then the cache lets the token go
        // and the next request asks the issuer again.
        verified->cache_until = now + interval;
        std::shared_ptr<const VerifiedToken> out = verified;
        cache_.insert(out->token_hash, out, now);
        done(std::move(out));
      });
}

}  // namespace fapigate::gw
