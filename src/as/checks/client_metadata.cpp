#include "as/checks/client_metadata.hpp"

#include <algorithm>
#include <array>

#include <boost/json/serialize.hpp>

#include "as/checks/client_assertion.hpp"
#include "as/checks/client_auth.hpp"
#include "core/strings.hpp"
#include "jose/jwe.hpp"
#include "jose/jwk.hpp"

namespace fapigate::as {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxRedirectUris = 20;
constexpr std::size_t kMaxUriBytes = 2048;
constexpr std::size_t kMaxStringBytes = 1024;
constexpr std::size_t kMaxContacts = 10;
constexpr std::size_t kMaxKeys = 10;
constexpr std::size_t kMaxJwksBytes = 64 * 1024;

constexpr std::array kGrantTypes{std::string_view("authorization_code"),
                                 std::string_view("client_credentials"),
                                 std::string_view("refresh_token")};
// FAPI 2.0 SP §5.4.1 / FAPI 1.0 Part 2 §8.6: signatures the client makes.
constexpr std::array kClientAlgs{std::string_view("PS256"), std::string_view("ES256"),
                                 std::string_view("EdDSA")};
constexpr std::array kTlsFields{
    std::string_view("tls_client_auth_subject_dn"), std::string_view("tls_client_auth_san_dns"),
    std::string_view("tls_client_auth_san_uri"), std::string_view("tls_client_auth_san_ip"),
    std::string_view("tls_client_auth_san_email")};
// Descriptive RFC 7591 §2 members, kept as registered.
constexpr std::array kTextFields{std::string_view("client_name"), std::string_view("software_id"),
                                 std::string_view("software_version")};
constexpr std::array kUriFields{std::string_view("client_uri"), std::string_view("logo_uri"),
                                std::string_view("tos_uri"), std::string_view("policy_uri")};

OAuthError bad(std::string description) {
  return oauth_error(OAuthErrc::InvalidClientMetadata, std::move(description));
}

template <std::size_t N>
bool one_of(std::string_view v, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Typed access to the request object. JSON null counts as absent (clients often send it for
// "not set" in an RFC 7592 full replacement).
class Members {
public:
  explicit Members(const json::object& o) : o_(o) {}

  const json::value* find(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
  }

  // nullopt when absent; an error when present but not a string of 1..max bytes.
  OAuthResult<std::optional<std::string>> string(std::string_view key,
                                                 std::size_t max = kMaxStringBytes) const {
    const json::value* v = find(key);
    if (!v) {
      return std::optional<std::string>();
    }
    if (!v->is_string() || v->get_string().empty() || v->get_string().size() > max) {
      return bad(std::string(key) + " must be a non-empty string of at most " +
                 std::to_string(max) + " bytes");
    }
    return std::optional<std::string>(std::string(v->get_string()));
  }

  OAuthResult<std::optional<std::vector<std::string>>> strings(std::string_view key,
                                                               std::size_t max_items,
                                                               std::size_t max_len) const {
    const json::value* v = find(key);
    if (!v) {
      return std::optional<std::vector<std::string>>();
    }
    const json::array* a = v->if_array();
    if (!a || a->size() > max_items) {
      return bad(std::string(key) + " must be an array of at most " + std::to_string(max_items) +
                 " strings");
    }
    std::vector<std::string> out;
    for (const auto& item : *a) {
      if (!item.is_string() || item.get_string().empty() || item.get_string().size() > max_len) {
        return bad(std::string(key) + " must hold non-empty strings of at most " +
                   std::to_string(max_len) + " bytes");
      }
      std::string s(item.get_string());
      if (!contains(out, s)) {
        out.push_back(std::move(s));
      }
    }
    return std::optional<std::vector<std::string>>(std::move(out));
  }

  OAuthResult<std::optional<bool>> boolean(std::string_view key) const {
    const json::value* v = find(key);
    if (!v) {
      return std::optional<bool>();
    }
    if (!v->is_bool()) {
      return bad(std::string(key) + " must be true or false");
    }
    return std::optional<bool>(v->get_bool());
  }

private:
  const json::object& o_;
};

json::array to_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) {
    a.emplace_back(s);
  }
  return a;
}

// RFC 7517 §4/§5 with the FAPI key-size rules (F1-19, F2-33): every key must be one this
// server can use (RSA >= 2048 bits, EC P-256, Ed25519) and public; a private member means the
// client gave its secret away, which is refused rather than stored.
OAuthResult<std::string> check_jwks(const json::value& v) {
  const json::object* set = v.if_object();
  const json::value* keys = set ? set->if_contains("keys") : nullptr;
  if (!keys || !keys->is_array() || keys->get_array().empty() ||
      keys->get_array().size() > kMaxKeys) {
    return bad("jwks must be a JWK Set {\"keys\": [...]} with 1 to " + std::to_string(kMaxKeys) +
               " keys");
  }
  std::string text = json::serialize(*set);
  if (text.size() > kMaxJwksBytes) {
    return bad("jwks is larger than 64 KiB");
  }
  static constexpr std::array kPrivate{std::string_view("d"),  std::string_view("p"),
                                       std::string_view("q"),  std::string_view("dp"),
                                       std::string_view("dq"), std::string_view("qi"),
                                       std::string_view("oth"), std::string_view("k")};
  const json::array& arr = keys->get_array();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string name = "jwks.keys[" + std::to_string(i) + "]";
    const json::object* k = arr[i].if_object();
    if (!k) {
      return bad(name + " must be a JWK object");
    }
    for (auto m : kPrivate) {
      if (k->contains(m)) {
        return bad(name + " holds private key material; register public keys only");
      }
    }
    // An encryption key's "alg" (RSA-OAEP, ECDH-ES) is outside the signing allow-list; its key
    // is still held to the same size rules. This server never encrypts to it.
    json::object copy = *k;
    if (auto use = copy.if_contains("use"); use && use->is_string() && use->get_string() == "enc") {
      copy.erase("alg");
    }
    auto jwk = jose::parse_jwk(copy);
    if (!jwk) {
      return bad(name + " is not a usable public key (RSA of at least 2048 bits, EC P-256 or "
                        "Ed25519, with an allowed alg)");
    }
    if (jwk->key.is_private()) {
      return bad(name + " holds private key material; register public keys only");
    }
  }
  // The stored text is what client authentication and request-object verification parse later
  // (parse_client_jwks, whose JSON depth bound is 4). A set that passes the checks above but
  // not that parser, such as a key with a nested extension member, would register a client
  // whose every private_key_jwt authentication then fails (flagged by fuzz_dcr_metadata).
  if (!parse_client_jwks(text)) {
    return bad("jwks must not nest members deeper than a key's x5c array");
  }
  return text;
}

std::string_view host_of(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    return close == std::string_view::npos ? std::string_view() : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

}  // namespace

std::optional<std::string> redirect_uri_problem(std::string_view uri) {
  if (uri.empty() || uri.size() > kMaxUriBytes) {
    return "must be 1 to " + std::to_string(kMaxUriBytes) + " characters";
  }
  for (char ch : uri) {
    auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7f) {
      return std::string("must not contain spaces or control characters");
    }
  }
  // RFC 6749 §3.1.2: the endpoint URI must not include a fragment component.
  if (uri.find('#') != std::string_view::npos) {
    return std::string("must not contain a fragment (RFC 6749 3.1.2)");
  }
  constexpr std::string_view kHttps = "https://";
  if (uri.size() < kHttps.size() || !core::iequals(uri.substr(0, kHttps.size()), kHttps)) {
    return std::string("must be an https URL (FAPI 2.0 SP 5.3.2.2-8: no http, custom scheme "
                       "or loopback redirect for these clients)");
  }
  std::string_view rest = uri.substr(kHttps.size());
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos) {
    return std::string("must not contain user information");
  }
  std::string_view host = host_of(authority);
  if (host.empty()) {
    return std::string("must name a host");
  }
  if (authority.front() != '[') {
    auto colon = authority.find(':');
    if (colon != std::string_view::npos) {
      std::string_view port = authority.substr(colon + 1);
      if (port.empty() || port.size() > 5 ||
          !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::string("has an invalid port");
      }
    }
  }
  return std::nullopt;
}

OAuthResult<RegisteredMetadata> validate_client_metadata(const json::object& in,
                                                         const config::AuthorizationServer& as) {
  const Members m(in);
  RegisteredMetadata out;
  store::ClientRecord& rec = out.record;
  json::object& meta = out.metadata;

  // FAPI: confidential clients with asymmetric credentials only; a client secret would
  // never be checked, so it is refused rather than silently kept.
  if (m.find("client_secret") || m.find("client_secret_expires_at")) {
    return bad("client_secret is not used by this server: clients authenticate with "
               "tls_client_auth, self_signed_tls_client_auth or private_key_jwt");
  }

  // The profile first: it decides the response_types and flags allowed below.
  auto profile = m.string("fapi_profile");
  if (!profile) {
    return profile.error();
  }
  const std::string prof = profile->value_or("fapi2");
  if (prof != "fapi2" && prof != "fapi1_advanced") {
    return bad("fapi_profile must be fapi2 or fapi1_advanced");
  }
  const bool fapi2 = prof == "fapi2";
  meta["fapi_profile"] = prof;

  // Client authentication (FAPI 2.0 SP §5.3.2.1-6, FAPI 1.0 Advanced §5.2.2-14).
  auto method = m.string("token_endpoint_auth_method");
  if (!method) {
    return method.error();
  }
  if (!*method) {
    // RFC 7591 §2 defaults to client_secret_basic, which FAPI does not allow.
    return bad("token_endpoint_auth_method is required: tls_client_auth, "
               "self_signed_tls_client_auth or private_key_jwt");
  }
  if (!contains(supported_client_auth_methods(), **method)) {
    return bad("token_endpoint_auth_method " + **method +
               " is not allowed: use tls_client_auth, self_signed_tls_client_auth or "
               "private_key_jwt");
  }
  rec.token_endpoint_auth_method = **method;
  meta["token_endpoint_auth_method"] = **method;

  auto auth_alg = m.string("token_endpoint_auth_signing_alg");
  if (!auth_alg) {
    return auth_alg.error();
  }
  if (*auth_alg) {
    if (rec.token_endpoint_auth_method != "private_key_jwt") {
      return bad("token_endpoint_auth_signing_alg is only for private_key_jwt");
    }
    if (!one_of(**auth_alg, kClientAlgs)) {
      return bad("token_endpoint_auth_signing_alg must be PS256, ES256 or EdDSA");
    }
    meta["token_endpoint_auth_signing_alg"] = **auth_alg;
  }

  // RFC 8705 §2.1.2: exactly one of the subject/SAN fields for tls_client_auth, none otherwise.
  std::size_t tls_fields = 0;
  for (auto field : kTlsFields) {
    auto v = m.string(field);
    if (!v) {
      return v.error();
    }
    if (!*v) {
      continue;
    }
    ++tls_fields;
    if (rec.token_endpoint_auth_method != "tls_client_auth") {
      return bad(std::string(field) + " is only for tls_client_auth");
    }
    meta[field] = **v;
    if (field == "tls_client_auth_subject_dn") {
      rec.tls_client_auth_subject_dn = **v;
    } else if (field == "tls_client_auth_san_dns") {
      rec.tls_client_auth_san_dns = **v;
    } else if (field == "tls_client_auth_san_uri") {
      rec.tls_client_auth_san_uri = **v;
    } else if (field == "tls_client_auth_san_ip") {
      rec.tls_client_auth_san_ip = **v;
    } else {
      rec.tls_client_auth_san_email = **v;
    }
  }
  if (rec.token_endpoint_auth_method == "tls_client_auth" && tls_fields != 1) {
    return bad("tls_client_auth needs exactly one of tls_client_auth_subject_dn, "
               "tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, "
               "tls_client_auth_san_email (RFC 8705 2.1.2)");
  }

  // Keys: by value only. RFC 7591 §2: jwks and jwks_uri are mutually exclusive.
  const json::value* jwks = m.find("jwks");
  if (m.find("jwks_uri")) {
    return bad(jwks ? "jwks and jwks_uri must not both be present (RFC 7591 2)"
                    : "jwks_uri is not supported: register the keys by value in jwks");
  }
  if (jwks) {
    auto text = check_jwks(*jwks);
    if (!text) {
      return text.error();
    }
    if (rec.token_endpoint_auth_method == "private_key_jwt") {
      // RFC 7523 §3: the assertion is verified with one of these keys. A set of encryption keys
      // only would register a client that can never authenticate (flagged by fuzz_dcr_metadata).
      auto usable = parse_client_jwks(*text);
      if (!usable || usable->keys.empty()) {
        return bad("jwks must hold a signing key (use sig or no use) for private_key_jwt");
      }
    }
    rec.jwks_json = std::move(*text);
    meta["jwks"] = *jwks;
  } else if (rec.token_endpoint_auth_method != "tls_client_auth") {
    return bad("jwks is required for " + rec.token_endpoint_auth_method);
  }

  // RFC 7591 §2.1: grant_types (default authorization_code) and response_types agree.
  auto grants = m.strings("grant_types", kGrantTypes.size() + 2, 64);
  if (!grants) {
    return grants.error();
  }
  rec.grant_types = grants->value_or(std::vector<std::string>{"authorization_code"});
  if (rec.grant_types.empty()) {
    return bad("grant_types must not be empty");
  }
  for (const auto& g : rec.grant_types) {
    if (!one_of(g, kGrantTypes)) {
      return bad("grant_type " + g + " is not supported (authorization_code, "
                 "client_credentials, refresh_token)");
    }
  }
  const bool code_grant = contains(rec.grant_types, "authorization_code");
  if (contains(rec.grant_types, "refresh_token") && !code_grant) {
    return bad("grant_type refresh_token needs authorization_code (RFC 6749 4.4.3: none for "
               "client_credentials)");
  }
  meta["grant_types"] = to_array(rec.grant_types);

  auto response_types = m.strings("response_types", 4, 64);
  if (!response_types) {
    return response_types.error();
  }
  std::vector<std::string> rts;
  if (*response_types) {
    rts = **response_types;
    for (const auto& rt : rts) {
      // FAPI 2.0 SP §5.3.2.2-1: code only; FAPI 1.0 Part 2 §5.2.2-2: code id_token, or code
      // with JARM.
      const bool allowed = rt == "code" || (!fapi2 && rt == "code id_token");
      if (!allowed) {
        return bad("response_type " + rt + " is not allowed for a " + prof + " client");
      }
      if (!code_grant) {
        return bad("response_type " + rt + " needs grant_type authorization_code (RFC 7591 2.1)");
      }
    }
    if (code_grant && rts.empty()) {
      return bad("response_types must not be empty with grant_type authorization_code "
                 "(RFC 7591 2.1)");
    }
  } else if (code_grant) {
    rts = fapi2 ? std::vector<std::string>{"code"}
                : std::vector<std::string>{"code id_token", "code"};
  }
  meta["response_types"] = to_array(rts);

  // Redirect URIs: required for the code grant, https only, exact strings (F1-15, F2-21).
  auto redirects = m.strings("redirect_uris", kMaxRedirectUris, kMaxUriBytes);
  if (!redirects) {
    return oauth_error(OAuthErrc::InvalidRedirectUri, redirects.error().description);
  }
  rec.redirect_uris = redirects->value_or(std::vector<std::string>{});
  if (code_grant && rec.redirect_uris.empty()) {
    return oauth_error(OAuthErrc::InvalidRedirectUri,
                       "redirect_uris is required for grant_type authorization_code");
  }
  for (std::size_t i = 0; i < rec.redirect_uris.size(); ++i) {
    if (auto problem = redirect_uri_problem(rec.redirect_uris[i])) {
      return oauth_error(OAuthErrc::InvalidRedirectUri,
                         "redirect_uris[" + std::to_string(i) + "] " + *problem);
    }
  }
  if (!rec.redirect_uris.empty()) {
    meta["redirect_uris"] = to_array(rec.redirect_uris);
  }

  // RFC 7591 §2: scope; absent means every scope the server supports.
  auto scope = m.string("scope", 4096);
  if (!scope) {
    return scope.error();
  }
  if (*scope) {
    for (auto& s : core::split_scopes(**scope)) {
      // openid is always supported (discovery lists it; authz_request.cpp always allows it).
      if (s != "openid" && !contains(as.scopes_supported, s)) {
        return bad("scope " + s + " is not supported by this server");
      }
      if (!contains(rec.scopes, s)) {
        rec.scopes.push_back(std::move(s));
      }
    }
    if (rec.scopes.empty()) {
      return bad("scope must name at least one scope");
    }
  } else {
    rec.scopes = as.scopes_supported;
  }
  std::string joined;
  for (const auto& s : rec.scopes) {
    joined += joined.empty() ? "" : " ";
    joined += s;
  }
  meta["scope"] = joined;

  // Algorithms. Responses are signed with the AS key, so only its algorithm can be promised;
  // the client's own signatures may use any FAPI algorithm (F2-32).
  for (std::string_view field : {std::string_view("id_token_signed_response_alg"),
                                 std::string_view("authorization_signed_response_alg")}) {
    auto v = m.string(field);
    if (!v) {
      return v.error();
    }
    if (*v) {
      if (**v != as.signing_alg) {
        return bad(std::string(field) + " must be " + as.signing_alg +
                   " (the algorithm this server signs with)");
      }
      meta[field] = **v;
    }
  }
  auto ro_alg = m.string("request_object_signing_alg");
  if (!ro_alg) {
    return ro_alg.error();
  }
  if (*ro_alg) {
    if (!one_of(**ro_alg, kClientAlgs)) {
      return bad("request_object_signing_alg must be PS256, ES256 or EdDSA");
    }
    meta["request_object_signing_alg"] = **ro_alg;
  }

  // OIDC Registration §2: ID tokens signed, then encrypted to the client's RSA key (F1-13);
  // RSA1_5 is not offered (FAPI 1.0 Part 2 §8.6.1); enc defaults to A128CBC-HS256 and needs
  // the alg.
  auto jwe_alg = m.string("id_token_encrypted_response_alg");
  if (!jwe_alg) {
    return jwe_alg.error();
  }
  auto jwe_enc = m.string("id_token_encrypted_response_enc");
  if (!jwe_enc) {
    return jwe_enc.error();
  }
  if (*jwe_enc && !*jwe_alg) {
    return bad("id_token_encrypted_response_enc needs id_token_encrypted_response_alg "
               "(OIDC Registration 2)");
  }
  if (*jwe_alg) {
    auto alg = jose::parse_key_management_alg(**jwe_alg);
    if (!alg) {
      return bad("id_token_encrypted_response_alg must be RSA-OAEP-256 or RSA-OAEP");
    }
    if (*jwe_enc && !jose::parse_content_encryption(**jwe_enc)) {
      return bad("id_token_encrypted_response_enc must be A128CBC-HS256, A256CBC-HS512, A128GCM "
                 "or A256GCM");
    }
    if (rec.jwks_json.empty() || !jose::find_encryption_key(rec.jwks_json, *alg)) {
      return bad("jwks must hold an RSA key to encrypt ID tokens to with " +
                 std::string(**jwe_alg) + " (\"use\": \"enc\" or none, \"alg\" none or the same)");
    }
    meta["id_token_encrypted_response_alg"] = **jwe_alg;
    if (*jwe_enc) {
      meta["id_token_encrypted_response_enc"] = **jwe_enc;
    }
  }

  // The profile's hard rules (client_policy.hpp), refused rather than silently overridden.
  auto par = m.boolean("require_pushed_authorization_requests");
  if (!par) {
    return par.error();
  }
  if (fapi2 && *par && !**par) {
    return bad("require_pushed_authorization_requests must be true for a fapi2 client "
               "(FAPI 2.0 SP 5.3.2.2-3)");
  }
  meta["require_pushed_authorization_requests"] = par->value_or(true);
  auto rotation = m.boolean("refresh_token_rotation");
  if (!rotation) {
    return rotation.error();
  }
  if (fapi2 && *rotation && **rotation) {
    return bad("refresh_token_rotation must be false for a fapi2 client (FAPI 2.0 SP 5.3.2.1-9)");
  }
  meta["refresh_token_rotation"] = rotation->value_or(false);

  // RFC 8705 §3.4: every token here is certificate-bound; a client cannot opt out.
  auto bound = m.boolean("tls_client_certificate_bound_access_tokens");
  if (!bound) {
    return bound.error();
  }
  if (*bound && !**bound) {
    return bad("tls_client_certificate_bound_access_tokens must be true: every access token is "
               "bound to the client certificate (RFC 8705 3)");
  }
  meta["tls_client_certificate_bound_access_tokens"] = true;

  auto app_type = m.string("application_type");
  if (!app_type) {
    return app_type.error();
  }
  if (*app_type && **app_type != "web") {
    return bad("application_type must be web (FAPI registers confidential clients only)");
  }

  for (auto field : kTextFields) {
    auto v = m.string(field);
    if (!v) {
      return v.error();
    }
    if (*v) {
      meta[field] = **v;
    }
  }
  for (auto field : kUriFields) {
    auto v = m.string(field, kMaxUriBytes);
    if (!v) {
      return v.error();
    }
    if (*v) {
      if (!core::iequals(v->value().substr(0, std::min<std::size_t>(8, v->value().size())),
                         "https://")) {
        return bad(std::string(field) + " must be an https URL");
      }
      meta[field] = **v;
    }
  }
  auto contacts = m.strings("contacts", kMaxContacts, 256);
  if (!contacts) {
    return contacts.error();
  }
  if (*contacts) {
    meta["contacts"] = to_array(**contacts);
  }
  // RFC 7591 §3.2.1: a software statement used for the registration is returned unmodified.
  if (auto ss = m.find("software_statement"); ss && ss->is_string()) {
    meta["software_statement"] = ss->get_string();
  }

  rec.metadata_json = json::serialize(meta);
  return out;
}

}  // namespace fapigate::as
