#include "as/checks/software_statement.hpp"

#include <algorithm>

#include "core/json.hpp"
#include "jose/jwt_claims.hpp"

namespace fapigate::as {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxStatementBytes = 16 * 1024;

OAuthError invalid(std::string description, std::string detail = {}) {
  return oauth_error(OAuthErrc::InvalidSoftwareStatement, std::move(description),
                     std::move(detail));
}

}  // namespace

OAuthResult<json::object> verify_software_statement(std::string_view statement,
                                                    const SoftwareStatementTrust& trust,
                                                    std::int64_t now) {
  if (!trust.keys || trust.issuer.empty()) {
    return oauth_error(OAuthErrc::UnapprovedSoftwareStatement,
                       "software statements are not accepted by this server");
  }
  if (statement.empty() || statement.size() > kMaxStatementBytes) {
    return invalid("software_statement must be a signed JWT of at most 16 KiB");
  }
  // Directories sign with RSA-PSS or P-256 ECDSA (Open Banking UK and Brasil: PS256); nothing
  // else is trusted for a statement.
  static const jose::AlgList kAllowed{jose::Alg::PS256, jose::Alg::ES256};
  jose::JwsLimits limits;
  limits.max_token_bytes = kMaxStatementBytes;
  auto jws = jose::verify_compact(statement, kAllowed, *trust.keys, limits);
  if (!jws) {
    const auto e = jws.error();
    if (e == jose::JoseErrc::KidNotFound) {
      return oauth_error(OAuthErrc::UnapprovedSoftwareStatement,
                         "the software statement is not signed by a trusted directory",
                         "software_statement: " + e.message());
    }
    if (e == jose::JoseErrc::AlgNotAllowed || e == jose::JoseErrc::AlgMissing) {
      return invalid("the software statement must be signed with PS256 or ES256",
                     "software_statement: " + e.message());
    }
    if (e == jose::JoseErrc::BadSignature) {
      return invalid("the software statement signature is invalid");
    }
    return invalid("the software statement is not a valid signed JWT",
                   "software_statement: " + e.message());
  }
  auto claims = jose::parse_claims(jws->payload, kMaxStatementBytes, 8);
  if (!claims) {
    return invalid("the software statement payload is not a JSON object");
  }
  jose::ClaimExpectations expect;
  expect.issuer = trust.issuer;
  expect.now = now;
  expect.skew_seconds = trust.skew;
  expect.require_exp = false;  // Open Banking statements often carry only iat
  if (auto checked = jose::check_claims(*claims, expect); !checked) {
    const auto e = checked.error();
    if (e == jose::JoseErrc::IssuerMismatch) {
      return invalid("the software statement iss is not the trusted directory",
                     "software_statement iss mismatch");
    }
    if (e == jose::JoseErrc::Expired) {
      return invalid("the software statement has expired");
    }
    return invalid("the software statement is not valid now or has malformed claims",
                   "software_statement: " + e.message());
  }
  // RFC 7591 §2.3 leaves freshness to the server: iat is required and bounds the age.
  auto iat = core::get_int(*claims, "iat");
  if (!iat) {
    return invalid("the software statement must carry iat");
  }
  // Not now - iat: an iat near INT64_MIN overflowed that (undefined; wrapped, an ancient
  // statement passed; regression in tests/fuzz/regressions/software_statement).
  if (*iat < now - trust.max_age) {
    return invalid("the software statement is too old (iat more than " +
                   std::to_string(trust.max_age) + " seconds ago)");
  }
  for (std::string_view registered : {"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}) {
    claims->erase(registered);
  }
  return std::move(*claims);
}

OAuthResult<json::object> apply_software_statement(json::object metadata,
                                                   const json::object& claims) {
  std::vector<std::string> allowed;
  const json::value* bound = claims.if_contains("software_redirect_uris");
  if (bound && bound->is_null()) {
    bound = nullptr;
  }
  if (bound) {
    const json::array* a = bound->if_array();
    if (!a) {
      return invalid("software_redirect_uris in the software statement must be an array");
    }
    for (const auto& v : *a) {
      if (!v.is_string()) {
        return invalid("software_redirect_uris in the software statement must hold strings");
      }
      allowed.emplace_back(v.get_string());
    }
  }
  for (const auto& [key, value] : claims) {
    if (key == "software_redirect_uris") {
      continue;
    }
    metadata[key] = value;  // RFC 7591 §2.3: the statement wins
  }
  if (!bound) {
    return metadata;
  }
  const json::value* requested = metadata.if_contains("redirect_uris");
  if (!requested || requested->is_null()) {
    metadata["redirect_uris"] = *bound;
    return metadata;
  }
  if (const json::array* a = requested->if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i) {
      const json::value& v = (*a)[i];
      if (!v.is_string() ||
          std::find(allowed.begin(), allowed.end(), v.get_string()) == allowed.end()) {
        return oauth_error(OAuthErrc::InvalidRedirectUri,
                           "redirect_uris[" + std::to_string(i) +
                               "] is not among the software statement's software_redirect_uris");
      }
    }
  }
  return metadata;
}

}  // namespace fapigate::as
