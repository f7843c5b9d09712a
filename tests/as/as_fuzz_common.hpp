// Fixed inputs of the as/ fuzz targets, built once: one private_key_jwt client registered with
// the fixed EC and Ed25519 client keys of jose/fuzz_keys.hpp (a PS256 token finds no key), the
// authorization server's settings, and the software-statement directory (the fixed "other"
// keys). "Sign mode": an input that starts with
// '{' is a claims set, which the target signs with the client's (or directory's) key before it
// runs the check, so that the claim rules behind the signature get fuzzed too.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "as/checks/software_statement.hpp"
#include "config/model.hpp"
#include "jose/fuzz_keys.hpp"
#include "jose/jws.hpp"
#include "store/store.hpp"

namespace fapigate::as::fuzz {

using jose::fuzz::FuzzKeys;
using jose::fuzz::kNow;

inline constexpr std::string_view kIssuer = "https://as.example";
inline constexpr std::string_view kClientId = "fuzz-client";
inline constexpr std::string_view kRedirectUri = "https://client.example/cb";
inline constexpr std::string_view kDirectoryIssuer = "FuzzDirectory";

inline const store::ClientRecord& client() {
  static const store::ClientRecord c = [] {
    store::ClientRecord r;
    r.client_id = std::string(kClientId);
    r.token_endpoint_auth_method = "private_key_jwt";
    r.grant_types = {"authorization_code", "client_credentials", "refresh_token"};
    r.scopes = {"accounts", "payments"};
    r.redirect_uris = {std::string(kRedirectUri)};
    r.jwks_json = FuzzKeys::get().client_fast_jwks_json;
    return r;
  }();
  return c;
}

inline const config::AuthorizationServer& as_settings() {
  static const config::AuthorizationServer s = [] {
    config::AuthorizationServer a;
    a.enabled = true;
    a.issuer = std::string(kIssuer);
    a.signing_alg = "PS256";
    a.scopes_supported = {"openid", "accounts", "payments"};
    return a;
  }();
  return s;
}

// The directory trusts only its PS256 and ES256 keys (the EdDSA one is left out on purpose: an
// EdDSA statement must fail on its alg, whatever the key).
inline const SoftwareStatementTrust& directory_trust() {
  static const SoftwareStatementTrust t = [] {
    const auto& k = FuzzKeys::get();
    jose::Jwks set;
    set.keys = {k.other_ps256, k.other_es256};
    SoftwareStatementTrust trust;
    trust.keys = std::make_shared<const jose::VerifierSet>(set);
    trust.issuer = std::string(kDirectoryIssuer);
    trust.max_age = 86400;
    trust.skew = 30;
    return trust;
  }();
  return t;
}

inline bool sign_mode(std::string_view input) {
  return !input.empty() && input.front() == '{';
}

}  // namespace fapigate::as::fuzz
