#include "as/authz_request.hpp"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "as/checks/pkce.hpp"
#include "as/checks/redirect_uri.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"

namespace fapigate::as {
namespace {

std::optional<std::string_view> get(const RequestParams& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

std::string_view mode_name(ResponseMode m) {
  switch (m) {
    case ResponseMode::Query: return "query";
    case ResponseMode::Fragment: return "fragment";
    case ResponseMode::Jwt: return "query.jwt";
    case ResponseMode::FormPostJwt: return "form_post.jwt";
  }
  return "query";
}

std::optional<ResponseMode> parse_mode(std::string_view s) {
  if (s == "query") return ResponseMode::Query;
  if (s == "fragment") return ResponseMode::Fragment;
  // JARM §2.3.4: "jwt" means query.jwt for response_type code.
  if (s == "jwt" || s == "query.jwt") return ResponseMode::Jwt;
  if (s == "form_post.jwt") return ResponseMode::FormPostJwt;
  return std::nullopt;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

bool AuthorizationRequest::openid() const {
  return std::find(scopes.begin(), scopes.end(), "openid") != scopes.end();
}

std::string AuthorizationRequest::scope() const { return core::space_joined(scopes); }

boost::json::object AuthorizationRequest::to_json() const {
  boost::json::object o;
  o["client_id"] = client_id;
  o["response_type"] = response_type;
  o["response_mode"] = mode_name(response_mode);
  o["redirect_uri"] = redirect_uri;
  o["scope"] = scope();
  if (has_state) {
    o["state"] = state;
  }
  o["nonce"] = nonce;
  o["code_challenge"] = code_challenge;
  o["signed_request"] = signed_request;
  return o;
}

std::optional<AuthorizationRequest> AuthorizationRequest::from_json(const boost::json::object& o) {
  AuthorizationRequest r;
  auto s = [&](const char* k) { return core::get_string(o, k); };
  auto cid = s("client_id");
  auto rt = s("response_type");
  auto rm = s("response_mode");
  auto ru = s("redirect_uri");
  auto sc = s("scope");
  auto cc = s("code_challenge");
  if (!cid || !rt || !rm || !ru || !sc || !cc) {
    return std::nullopt;
  }
  auto mode = parse_mode(*rm);
  if (!mode) {
    return std::nullopt;
  }
  r.client_id = *cid;
  r.response_type = *rt;
  r.response_mode = *mode;
  r.redirect_uri = *ru;
  r.scopes = core::split_scopes(*sc);
  if (auto st = s("state")) {
    r.state = *st;
    r.has_state = true;
  }
  r.nonce = std::string(s("nonce").value_or(""));
  r.code_challenge = *cc;
  if (const auto* b = o.if_contains("signed_request"); b && b->is_bool()) {
    r.signed_request = b->get_bool();
  }
  return r;
}

RequestParams params_of_claims(const boost::json::object& claims) {
  RequestParams p;
  for (const auto& kv : claims) {
    const auto& v = kv.value();
    if (const auto* str = v.if_string()) {
      p.emplace(std::string(kv.key()), std::string(*str));
    } else if (v.is_int64() || v.is_uint64() || v.is_double()) {
      p.emplace(std::string(kv.key()), boost::json::serialize(v));
    } else {
      p.emplace(std::string(kv.key()), boost::json::serialize(v));
    }
  }
  return p;
}

OAuthResult<AuthorizationRequest> validate_authorization_request(
    const store::ClientRecord& client, const ClientPolicy& policy, const RequestParams& params,
    bool signed_request) {
  AuthorizationRequest r;
  r.client_id = client.client_id;
  r.signed_request = signed_request;

  // RFC 9126 §2.1: a request_uri is what PAR hands out, never something pushed.
  if (params.count("request_uri") || params.count("request")) {
    return oauth_error(OAuthErrc::InvalidRequest,
                       "request_uri and request are not allowed here");
  }
  if (auto e = check_redirect_uri(get(params, "redirect_uri"), client)) {
    return *e;
  }
  r.redirect_uri = *get(params, "redirect_uri");

  auto rt = get(params, "response_type");
  if (!rt || rt->empty()) {
    return oauth_error(OAuthErrc::InvalidRequest, "response_type is required");
  }
  // Space-separated values in any order name the same type (OAuth 2.0 Multiple Response Types
  // §3); "id_token code" is "code id_token".
  auto parts = core::split_scopes(*rt);
  std::sort(parts.begin(), parts.end());
  std::string normalized;
  for (const auto& p : parts) {
    normalized += normalized.empty() ? p : " " + p;
  }
  if (normalized != "code" && normalized != "code id_token") {
    return oauth_error(OAuthErrc::UnsupportedResponseType,
                       "response_type must be code (or code id_token for FAPI 1.0 Advanced)");
  }
  if (std::find(policy.response_types.begin(), policy.response_types.end(), normalized) ==
      policy.response_types.end()) {
    return oauth_error(OAuthErrc::UnsupportedResponseType,
                       "response_type is not allowed for this client");
  }
  if (policy.profile == FapiProfile::Fapi2 && normalized != "code") {
    // FAPI 2.0 SP §5.3.2.2-1.
    return oauth_error(OAuthErrc::UnsupportedResponseType, "response_type must be code");
  }
  r.response_type = normalized;
  const bool hybrid = normalized == "code id_token";

  auto rm = get(params, "response_mode");
  if (rm) {
    auto mode = parse_mode(*rm);
    if (!mode) {
      return oauth_error(OAuthErrc::InvalidRequest, "response_mode is not supported");
    }
    r.response_mode = *mode;
  } else {
    // OIDC Core §3.3.2.5: the hybrid response defaults to the fragment.
    r.response_mode = hybrid ? ResponseMode::Fragment : ResponseMode::Query;
  }
  if (hybrid && r.response_mode != ResponseMode::Fragment) {
    // An ID token in the query would leak into logs (Multiple Response Types §2.1); JARM for
    // the hybrid type is not offered.
    return oauth_error(OAuthErrc::InvalidRequest,
                       "response_type code id_token is returned in the fragment only");
  }
  if (!hybrid && r.response_mode == ResponseMode::Fragment) {
    return oauth_error(OAuthErrc::InvalidRequest, "response_mode fragment is not supported for code");
  }
  if (policy.profile == FapiProfile::Fapi1Advanced && !hybrid &&
      r.response_mode == ResponseMode::Query) {
    // FAPI 1.0 Part 2 §5.2.2-2: code alone only with JARM.
    return oauth_error(OAuthErrc::UnsupportedResponseType,
                       "response_type code requires response_mode jwt for FAPI 1.0 Advanced");
  }

  auto scope = get(params, "scope");
  if (!scope || core::split_scopes(*scope).empty()) {
    return oauth_error(OAuthErrc::InvalidRequest, "scope is required");
  }
  for (const auto& s : core::split_scopes(*scope)) {
    const bool registered =
        s == "openid" ||
        std::find(client.scopes.begin(), client.scopes.end(), s) != client.scopes.end();
    if (!registered) {
      return oauth_error(OAuthErrc::InvalidScope, "a requested scope is not allowed for this client",
                         "scope " + s.substr(0, 64) + " not registered for " + client.client_id);
    }
    if (std::find(r.scopes.begin(), r.scopes.end(), s) == r.scopes.end()) {
      r.scopes.push_back(s);
    }
  }

  if (auto st = get(params, "state")) {
    if (st->size() > kMaxStateBytes || !printable_ascii(*st)) {
      return oauth_error(OAuthErrc::InvalidRequest, "state is too long or not printable ASCII");
    }
    r.state = *st;
    r.has_state = true;
  }
  if (auto n = get(params, "nonce")) {
    // F2-25: never truncated; refused above the bound.
    if (n->size() > kMaxNonceBytes || !printable_ascii(*n)) {
      return oauth_error(OAuthErrc::InvalidRequest, "nonce is too long or not printable ASCII");
    }
    r.nonce = *n;
  }
  if (r.nonce.empty() && (hybrid || (policy.profile == FapiProfile::Fapi1Advanced && r.openid()))) {
    // OIDC Core §3.3.2.11 (hybrid); FAPI 1.0 Part 1 §5.2.2.2 (F1-17).
    return oauth_error(OAuthErrc::InvalidRequest, "nonce is required");
  }
  if (!r.has_state && policy.profile == FapiProfile::Fapi1Advanced && !r.openid()) {
    // FAPI 1.0 Part 1 §5.2.2.3.
    return oauth_error(OAuthErrc::InvalidRequest, "state is required without openid");
  }
  if (r.has_state && r.state.empty()) {
    r.has_state = false;
  }

  if (auto e = check_pkce_challenge(get(params, "code_challenge"),
                                    get(params, "code_challenge_method"))) {
    return *e;
  }
  r.code_challenge = *get(params, "code_challenge");
  return r;
}

}  // namespace fapigate::as
