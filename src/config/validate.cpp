// Semantic checks on a Config, however it was built. Sections of roles that are switched off
// are not checked (a disabled gateway may keep a half-written route list).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <set>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "config/detail.hpp"
#include "core/cidr.hpp"
#include "config/loader.hpp"

namespace fapigate::config {
namespace detail {

std::string format_issue(const std::string& source, const Issue& issue) {
  std::string out;
  if (!source.empty()) {
    out += source;
    out += ": ";
  }
  if (!issue.path.empty()) {
    out += issue.path;
    out += ": ";
  }
  out += issue.message;
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace detail

namespace {

using detail::Issue;

constexpr std::string_view kSigningAlgs[] = {"PS256", "ES256", "EdDSA"};
constexpr std::string_view kAuthMethods[] = {"tls_client_auth", "self_signed_tls_client_auth",
                                             "private_key_jwt"};
constexpr std::string_view kGrantTypes[] = {"authorization_code", "client_credentials",
                                            "refresh_token", "urn:openid:params:grant-type:ciba"};
constexpr std::string_view kLogLevels[] = {"debug", "info", "warn", "error", "off"};
constexpr std::string_view kLogFormats[] = {"json", "text"};

template <std::size_t N>
bool one_of(std::string_view v, const std::string_view (&allowed)[N]) {
  return std::find(std::begin(allowed), std::end(allowed), v) != std::end(allowed);
}

template <std::size_t N>
std::string one_of_message(std::string_view v, const std::string_view (&allowed)[N]) {
  std::string m = "invalid value '" + std::string(v) + "'; must be one of: ";
  for (std::size_t i = 0; i < N; ++i) {
    m += i ? ", " : "";
    m += allowed[i];
  }
  return m;
}

class Checker {
public:
  std::vector<Issue> issues;

  void add(std::string path, std::string message) {
    issues.push_back({std::move(path), std::move(message)});
  }

  bool required(const std::string& path, const std::string& value) {
    if (value.empty()) {
      add(path, "required key is missing");
      return false;
    }
    return true;
  }

  template <class T>
  void range(const std::string& path, T value, std::int64_t lo, std::int64_t hi,
             std::string_view unit = "") {
    // Compared in the widest type: a std::size_t beyond INT64_MAX is out of range too.
    bool ok = std::is_signed_v<T>
                  ? (std::int64_t(value) >= lo && std::int64_t(value) <= hi)
                  : (std::uint64_t(value) >= std::uint64_t(std::max<std::int64_t>(lo, 0)) &&
                     std::uint64_t(value) <= std::uint64_t(hi));
    if (!ok) {
      std::string m = "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
      if (!unit.empty()) {
        m += " ";
        m += unit;
      }
      add(path, std::move(m));
    }
  }

  // A file the process will open at start: it must exist, be a regular file and be readable.
  void readable_file(const std::string& path, const std::string& file) {
    if (file.empty()) {
      return;
    }
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      add(path, "cannot read '" + file + "': " + std::strerror(errno));
      return;
    }
    struct stat st {};
    bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    ::close(fd);
    if (!regular) {
      add(path, "'" + file + "' is not a regular file");
    }
  }

  // RFC 8414 §2 / RFC 9207: the issuer identifier is an https URL with no query or fragment
  // (compared as a string with `iss`, so the form matters). `strict` adds the AS's own rule
  // (no trailing slash, so that "{issuer}/.well-known/..." and "{issuer}/token" are clean);
  // a trusted external issuer's identifier is taken as that issuer publishes it.
  void issuer_url(const std::string& path, const std::string& v, bool strict) {
    auto u = boost::urls::parse_uri(v);
    if (!u || u->scheme() != "https" || u->encoded_host().empty()) {
      add(path, "must be an https:// URL");
      return;
    }
    if (u->has_query() || u->has_fragment()) {
      add(path, "must not have a query or fragment");
    }
    if (u->has_userinfo()) {
      add(path, "must not contain user information");
    }
    if (strict && !v.empty() && v.back() == '/') {
      add(path, "must not end with '/'");
    }
  }

  void https_url(const std::string& path, const std::string& v) {
    auto u = boost::urls::parse_uri(v);
    if (!u || u->scheme() != "https" || u->encoded_host().empty()) {
      add(path, "must be an https:// URL");
      return;
    }
    if (u->has_fragment() || u->has_userinfo()) {
      add(path, "must not have a fragment or user information");
    }
  }

  void upstream_url(const std::string& path, const std::string& v) {
    auto u = boost::urls::parse_uri(v);
    if (!u || (u->scheme() != "http" && u->scheme() != "https") ||
        u->encoded_host().empty()) {
      add(path, "must be an http:// or https:// URL");
      return;
    }
    if (u->has_query() || u->has_fragment() || u->has_userinfo()) {
      add(path, "must not have a query, fragment or user information");
    }
  }

  // RFC 6749 §3.1.2: absolute, no fragment; FAPI 2.0 §5.3.1.2: https only.
  void redirect_uri(const std::string& path, const std::string& v) {
    auto u = boost::urls::parse_uri(v);
    if (!u || u->scheme() != "https" || u->encoded_host().empty()) {
      add(path, "must be an https:// URL");
      return;
    }
    if (u->has_fragment()) {
      add(path, "must not have a fragment");
    }
  }

  // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
  void scope_token(const std::string& path, const std::string& v) {
    bool ok = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
      auto u = static_cast<unsigned char>(c);
      return u == 0x21 || (u >= 0x23 && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
    });
    if (!ok) {
      add(path, "'" + v + "' is not a valid scope (printable ASCII, no space, '\"' or '\\')");
    }
  }

  // RFC 9110 §5.6.2: token = 1*tchar
  void method_token(const std::string& path, const std::string& v) {
    static constexpr std::string_view kTchar = "!#$%&'*+-.^_`|~";
    bool ok = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             kTchar.find(c) != std::string_view::npos;
    });
    if (!ok) {
      add(path, "'" + v + "' is not a valid HTTP method");
    }
  }

  void listener(const std::string& path, const Listener& l, bool need_tls) {
    required(path + ".address", l.address);
    if (!l.tls) {
      if (need_tls) {
        add(path + ".tls", "required key is missing (this listener must use TLS)");
      }
      return;
    }
    const Tls& t = *l.tls;
    std::string tp = path + ".tls";
    if (required(tp + ".cert_file", t.cert_file)) {
      readable_file(tp + ".cert_file", t.cert_file);
    }
    if (required(tp + ".key_file", t.key_file)) {
      readable_file(tp + ".key_file", t.key_file);
    }
    if (t.client_cert == ClientCertMode::Required && t.client_ca_file.empty()) {
      add(tp + ".client_ca_file", "required when client_cert is 'required'");
    }
    if (t.client_cert == ClientCertMode::RequiredAny && t.client_ca_file.empty()) {
      // tls_client_auth clients on the same listener still need their chain checked.
      add(tp + ".client_ca_file", "required when client_cert is 'required_any'");
    }
    readable_file(tp + ".client_ca_file", t.client_ca_file);
  }
};

struct Bound {
  std::string path;
  std::string address;
  std::uint16_t port;
};

bool wildcard(const std::string& a) { return a == "0.0.0.0" || a == "::" || a == "[::]"; }

void check_listener_overlap(Checker& c, const std::vector<Bound>& bound) {
  for (std::size_t i = 0; i < bound.size(); ++i) {
    if (bound[i].port == 0) {
      continue;  // an ephemeral port never collides
    }
    for (std::size_t j = 0; j < i; ++j) {
      bool same_addr = bound[i].address == bound[j].address || wildcard(bound[i].address) ||
                       wildcard(bound[j].address);
      if (bound[i].port == bound[j].port && same_addr) {
        c.add(bound[i].path, "address " + bound[i].address + ":" +
                                 std::to_string(bound[i].port) + " is already used by " +
                                 bound[j].path);
        break;
      }
    }
  }
}

void check_client(Checker& c, const std::string& p, const ClientRegistration& cl,
                  const AuthorizationServer& as) {
  c.required(p + ".client_id", cl.client_id);
  const std::string& m = cl.token_endpoint_auth_method;
  if (!one_of(m, kAuthMethods)) {
    c.add(p + ".token_endpoint_auth_method", one_of_message(m, kAuthMethods));
  } else if (m == "tls_client_auth") {
    // RFC 8705 §2.1.2: exactly one of the subject / SAN metadata parameters.
    int n = !cl.tls_client_auth_subject_dn.empty() + !cl.tls_client_auth_san_dns.empty() +
            !cl.tls_client_auth_san_uri.empty() + !cl.tls_client_auth_san_ip.empty() +
            !cl.tls_client_auth_san_email.empty();
    if (n == 0) {
      c.add(p, "tls_client_auth needs tls_client_auth_subject_dn or one tls_client_auth_san_* "
               "key");
    } else if (n > 1) {
      c.add(p, "tls_client_auth takes exactly one of tls_client_auth_subject_dn and the "
               "tls_client_auth_san_* keys (RFC 8705 2.1.2)");
    }
  } else if (cl.jwks_file.empty()) {
    c.add(p + ".jwks_file", "required for token_endpoint_auth_method " + m);
  }
  c.readable_file(p + ".jwks_file", cl.jwks_file);
  if (cl.grant_types.empty()) {
    c.add(p + ".grant_types", "must list at least one grant type");
  }
  for (std::size_t i = 0; i < cl.grant_types.size(); ++i) {
    if (!one_of(cl.grant_types[i], kGrantTypes)) {
      c.add(p + ".grant_types[" + std::to_string(i) + "]",
            one_of_message(cl.grant_types[i], kGrantTypes));
    }
  }
  for (std::size_t i = 0; i < cl.scopes.size(); ++i) {
    std::string sp = p + ".scopes[" + std::to_string(i) + "]";
    c.scope_token(sp, cl.scopes[i]);
    // openid is always supported (the authorization server lists it in discovery).
    if (!as.scopes_supported.empty() && cl.scopes[i] != "openid" &&
        std::find(as.scopes_supported.begin(), as.scopes_supported.end(), cl.scopes[i]) ==
            as.scopes_supported.end()) {
      c.add(sp, "scope '" + cl.scopes[i] +
                    "' is not in authorization_server.scopes_supported");
    }
  }
  for (std::size_t i = 0; i < cl.redirect_uris.size(); ++i) {
    c.redirect_uri(p + ".redirect_uris[" + std::to_string(i) + "]", cl.redirect_uris[i]);
  }
  static constexpr std::string_view kProfiles[] = {"fapi2", "fapi1_advanced"};
  if (!one_of(cl.profile, kProfiles)) {
    c.add(p + ".profile", one_of_message(cl.profile, kProfiles));
  }
  // FAPI 2.0 SP §5.3.2.2-1: code only. FAPI 1.0 Part 2 §5.2.2-2: code id_token, or code with
  // JARM.
  static constexpr std::string_view kResponseTypes[] = {"code", "code id_token"};
  for (std::size_t i = 0; i < cl.response_types.size(); ++i) {
    const std::string rp = p + ".response_types[" + std::to_string(i) + "]";
    if (!one_of(cl.response_types[i], kResponseTypes)) {
      c.add(rp, one_of_message(cl.response_types[i], kResponseTypes));
    } else if (cl.profile == "fapi2" && cl.response_types[i] != "code") {
      c.add(rp, "a fapi2 client may only use response_type code (FAPI 2.0 SP 5.3.2.2-1)");
    }
  }
  // FAPI 2.0 SP §5.4.1: PS256, ES256, EdDSA only.
  static constexpr std::string_view kJwsAlgs[] = {"PS256", "ES256", "EdDSA"};
  for (auto [key, value] : {std::pair{".id_token_signed_response_alg",
                                      &cl.id_token_signed_response_alg},
                            std::pair{".authorization_signed_response_alg",
                                      &cl.authorization_signed_response_alg},
                            std::pair{".request_object_signing_alg",
                                      &cl.request_object_signing_alg}}) {
    if (!value->empty() && !one_of(*value, kJwsAlgs)) {
      c.add(p + key, one_of_message(*value, kJwsAlgs));
    }
  }
  // OIDC Registration §2; RSA1_5 is not offered (FAPI 1.0 Part 2 §8.6.1). The key itself is
  // looked up in jwks_file when the authorization server starts.
  static constexpr std::string_view kJweAlgs[] = {"RSA-OAEP-256", "RSA-OAEP"};
  static constexpr std::string_view kJweEncs[] = {"A128CBC-HS256", "A256CBC-HS512", "A128GCM",
                                                  "A256GCM"};
  if (!cl.id_token_encrypted_response_alg.empty()) {
    if (!one_of(cl.id_token_encrypted_response_alg, kJweAlgs)) {
      c.add(p + ".id_token_encrypted_response_alg",
            one_of_message(cl.id_token_encrypted_response_alg, kJweAlgs));
    }
    if (cl.jwks_file.empty() && m == "tls_client_auth") {  // the other methods demand it above
      c.add(p + ".jwks_file", "required for id_token_encrypted_response_alg: the client's RSA "
                              "key to encrypt ID tokens to");
    }
  }
  if (!cl.id_token_encrypted_response_enc.empty()) {
    if (cl.id_token_encrypted_response_alg.empty()) {
      c.add(p + ".id_token_encrypted_response_enc",
            "needs id_token_encrypted_response_alg (OIDC Registration 2)");
    } else if (!one_of(cl.id_token_encrypted_response_enc, kJweEncs)) {
      c.add(p + ".id_token_encrypted_response_enc",
            one_of_message(cl.id_token_encrypted_response_enc, kJweEncs));
    }
  }
  if (cl.profile == "fapi2" && !cl.require_pushed_authorization_requests) {
    c.add(p + ".require_pushed_authorization_requests",
          "a fapi2 client must use PAR (FAPI 2.0 SP 5.3.2.2-3)");
  }
  if (cl.profile == "fapi2" && cl.refresh_token_rotation) {
    c.add(p + ".refresh_token_rotation",
          "a fapi2 client must not rotate refresh tokens (FAPI 2.0 SP 5.3.2.1-9)");
  }
}

// authorization_server.resources[] and the token format of the default audiences.
void check_resources(Checker& c, const AuthorizationServer& as,
                     const std::vector<std::pair<std::string, std::size_t>>& client_ids) {
  const std::string p = "authorization_server";
  std::set<std::string> audiences;
  for (std::size_t i = 0; i < as.resources.size(); ++i) {
    const std::string rp = p + ".resources[" + std::to_string(i) + "]";
    const ResourceServer& r = as.resources[i];
    if (c.required(rp + ".audience", r.audience) && !audiences.insert(r.audience).second) {
      c.add(rp + ".audience", "duplicate audience '" + r.audience + "'");
    }
    for (std::size_t j = 0; j < r.introspection_clients.size(); ++j) {
      const std::string& id = r.introspection_clients[j];
      const bool known = std::any_of(client_ids.begin(), client_ids.end(),
                                     [&id](const auto& e) { return e.first == id; });
      if (!known) {
        c.add(rp + ".introspection_clients[" + std::to_string(j) + "]",
              "unknown client_id '" + id + "'; must be one of " + p + ".clients");
      }
    }
  }
  // One token carries every default audience; if their resource servers expect different
  // formats, one of them could not use it (the issuer would make it opaque).
  const auto first = access_token_format_for(as, {as.access_token_audiences.empty()
                                                      ? as.issuer
                                                      : as.access_token_audiences.front()});
  for (const auto& aud : as.access_token_audiences) {
    if (access_token_format_for(as, {aud}) != first) {
      c.add(p + ".access_token_audiences",
            "the audiences' resources have different access_token_format; one token cannot "
            "serve both");
      break;
    }
  }
}

// authorization_server.registration (RFC 7591/7592). The files themselves are read (and their
// contents checked) when the AS starts; here only what the configuration alone decides.
void check_registration(Checker& c, const std::string& p, const DynamicRegistration& r) {
  if (!r.enabled) {
    return;
  }
  for (std::size_t i = 0; i < r.initial_access_tokens.size(); ++i) {
    // base64url(SHA-256(token)): 43 characters, no padding (the token is never configured).
    const std::string& h = r.initial_access_tokens[i];
    const bool ok = h.size() == 43 && std::all_of(h.begin(), h.end(), [](char ch) {
                      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' ||
                             ch == '_';
                    });
    if (!ok) {
      c.add(p + ".initial_access_tokens[" + std::to_string(i) + "]",
            "must be base64url(SHA-256(token)), 43 characters, not the token itself");
    }
  }
  if (r.initial_access_tokens.empty() && r.initial_access_tokens_file.empty()) {
    c.add(p + ".initial_access_tokens",
          "registration needs at least one initial access token (or initial_access_tokens_file)");
  }
  c.readable_file(p + ".initial_access_tokens_file", r.initial_access_tokens_file);
  c.readable_file(p + ".software_statement_jwks_file", r.software_statement_jwks_file);
  if (r.software_statement_required && r.software_statement_jwks_file.empty()) {
    c.add(p + ".software_statement_jwks_file",
          "required while software_statement_required is true");
  }
  if (!r.software_statement_jwks_file.empty() && r.software_statement_issuer.empty()) {
    c.add(p + ".software_statement_issuer",
          "required with software_statement_jwks_file (the directory's iss)");
  }
  c.range(p + ".software_statement_max_age", r.software_statement_max_age, 60, 366 * 86'400,
          "seconds");
}

void check_authorization_server(Checker& c, const AuthorizationServer& as,
                                std::vector<Bound>& bound) {
  const std::string p = "authorization_server";
  if (c.required(p + ".issuer", as.issuer)) {
    c.issuer_url(p + ".issuer", as.issuer, true);
  }
  if (!as.mtls_base_url.empty()) {
    c.https_url(p + ".mtls_base_url", as.mtls_base_url);
  }
  c.listener(p + ".front", as.front, true);
  c.listener(p + ".mtls", as.mtls, true);
  if (as.mtls.tls && as.mtls.tls->client_cert == ClientCertMode::None) {
    c.add(p + ".mtls.tls.client_cert",
          "the mTLS listener must request a client certificate (required or optional)");
  }
  // RFC 8705 §2.2: a self-signed client certificate never chains to client_ca_file, so only a
  // listener that lets unverified certificates through (to be matched per client) can serve it.
  for (std::size_t i = 0; i < as.clients.size(); ++i) {
    if (as.clients[i].token_endpoint_auth_method == "self_signed_tls_client_auth" &&
        as.mtls.tls && as.mtls.tls->client_cert != ClientCertMode::RequiredAny) {
      c.add(p + ".mtls.tls.client_cert",
            "must be 'required_any' for self_signed_tls_client_auth clients (" + p +
                ".clients[" + std::to_string(i) + "])");
      break;
    }
  }
  bound.push_back({p + ".front", as.front.address, as.front.port});
  bound.push_back({p + ".mtls", as.mtls.address, as.mtls.port});
  if (!one_of(as.signing_alg, kSigningAlgs)) {
    c.add(p + ".signing_alg", one_of_message(as.signing_alg, kSigningAlgs));
  }
  c.range(p + ".access_token_lifetime", as.access_token_lifetime, 1, 86'400, "seconds");
  c.range(p + ".id_token_lifetime", as.id_token_lifetime, 1, 86'400, "seconds");
  if (as.login_acr.empty() || as.login_acr.size() > 256 ||
      std::any_of(as.login_acr.begin(), as.login_acr.end(),
                  [](unsigned char ch) { return ch <= 0x20 || ch >= 0x7F || ch == '"' || ch == '\\'; })) {
    c.add(p + ".login_acr", "must be 1 to 256 printable characters without spaces, '\"' or '\\'");
  }
  c.range(p + ".login_max_failures_per_user", as.login_max_failures_per_user, 1, 1'000);
  c.range(p + ".login_max_failures_per_address", as.login_max_failures_per_address, 1, 100'000);
  c.range(p + ".login_failure_window", as.login_failure_window, 60, 86'400, "seconds");
  c.range(p + ".refresh_token_lifetime", as.refresh_token_lifetime, 60, 31'536'000, "seconds");
  c.readable_file(p + ".key_encryption_key_file", as.key_encryption_key_file);
  c.range(p + ".key_refresh_interval", as.key_refresh_interval, 1, 3'600, "seconds");
  c.range(p + ".key_publish_ahead", as.key_publish_ahead, 0, 7 * 86'400, "seconds");
  // Every AS instance must have re-read the store (and so publish the new key) before the key
  // signs anything, or a relying party could meet a kid no JWKS has shown yet.
  if (as.key_publish_ahead < as.key_refresh_interval) {
    c.add(p + ".key_publish_ahead", "must be at least key_refresh_interval (" +
                                        std::to_string(as.key_refresh_interval) + " seconds)");
  }
  for (std::size_t i = 0; i < as.access_token_audiences.size(); ++i) {
    c.required(p + ".access_token_audiences[" + std::to_string(i) + "]",
               as.access_token_audiences[i]);
  }
  std::set<std::string> scopes;
  for (std::size_t i = 0; i < as.scopes_supported.size(); ++i) {
    std::string sp = p + ".scopes_supported[" + std::to_string(i) + "]";
    c.scope_token(sp, as.scopes_supported[i]);
    if (!scopes.insert(as.scopes_supported[i]).second) {
      c.add(sp, "duplicate scope '" + as.scopes_supported[i] + "'");
    }
  }
  std::vector<std::pair<std::string, std::size_t>> ids;
  for (std::size_t i = 0; i < as.clients.size(); ++i) {
    std::string cp = p + ".clients[" + std::to_string(i) + "]";
    check_client(c, cp, as.clients[i], as);
    const std::string& id = as.clients[i].client_id;
    if (id.empty()) {
      continue;
    }
    auto dup = std::find_if(ids.begin(), ids.end(), [&id](const auto& e) { return e.first == id; });
    if (dup != ids.end()) {
      c.add(cp + ".client_id", "duplicate client_id '" + id + "' (also " + p + ".clients[" +
                                   std::to_string(dup->second) + "])");
    } else {
      ids.emplace_back(id, i);
    }
  }
  check_resources(c, as, ids);
  check_registration(c, p + ".registration", as.registration);
  std::vector<std::string> usernames;
  for (std::size_t i = 0; i < as.users.size(); ++i) {
    const std::string up = p + ".users[" + std::to_string(i) + "]";
    const User& u = as.users[i];
    if (u.username.empty() || u.username.size() > 256) {
      c.add(up + ".username", "a username of 1 to 256 characters is required");
    } else if (std::find(usernames.begin(), usernames.end(), u.username) != usernames.end()) {
      c.add(up + ".username", "duplicate username '" + u.username + "'");
    } else {
      usernames.push_back(u.username);
    }
    // The full check (parameters, salt, key length) runs when the AS seeds the store.
    if (u.password_hash.rfind("$scrypt$", 0) != 0) {
      c.add(up + ".password_hash",
            "expected an encoded scrypt hash ($scrypt$...) from `fapigate users hash-password`");
    }
  }
}

// RFC 9110 §5.1: field-name = token.
bool is_header_name(std::string_view v) {
  static constexpr std::string_view kTchar = "!#$%&'*+-.^_`|~";
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           kTchar.find(ch) != std::string_view::npos;
  });
}

// Headers the gateway writes itself towards the upstream (gateway/upstream_proxy.cpp).
bool is_gateway_owned_header(std::string_view v) {
  for (std::string_view n : {"Authorization", "Client-Cert", "Client-Cert-Chain", "Host",
                             "Forwarded", "X-Forwarded-For", "X-Forwarded-Proto",
                             "X-Forwarded-Host", "x-fapi-interaction-id", "Connection",
                             "Content-Length", "Transfer-Encoding"}) {
    if (v.size() == n.size() &&
        std::equal(v.begin(), v.end(), n.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

bool is_host_name(std::string_view v) {
  return !v.empty() && v.size() <= 253 && std::all_of(v.begin(), v.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.';
  });
}

// "{name}" placeholders are whole segments; anything else with braces is a typo.
void check_route_path(Checker& c, const std::string& path, const std::string& v) {
  std::size_t start = 1;
  while (start <= v.size()) {
    std::size_t end = v.find('/', start);
    if (end == std::string::npos) {
      end = v.size();
    }
    std::string_view seg(v.data() + start, end - start);
    bool braces = seg.find_first_of("{}") != std::string_view::npos;
    if (braces && (seg.size() < 3 || seg.front() != '{' || seg.back() != '}' ||
                   seg.substr(1, seg.size() - 2).find_first_of("{}") != std::string_view::npos)) {
      c.add(path, "a '{name}' placeholder must be a whole path segment");
      return;
    }
    if (v.find('%') != std::string::npos) {
      c.add(path, "must not contain percent-encoding (paths are matched decoded)");
      return;
    }
    start = end + 1;
  }
}

void check_gateway(Checker& c, const Gateway& gw, std::vector<Bound>& bound) {
  const std::string p = "gateway";
  // Behind a TLS-terminating load balancer (trusted_proxies set) the listener may be plain
  // HTTP or TLS without client certificates: the certificate arrives in RFC 9440 Client-Cert.
  const bool behind_proxy = !gw.trusted_proxies.empty();
  c.listener(p + ".listener", gw.listener, !behind_proxy);
  bound.push_back({p + ".listener", gw.listener.address, gw.listener.port});
  bool any_mtls = std::any_of(gw.routes.begin(), gw.routes.end(), [](const Route& r) {
    return r.sender_constraint == SenderConstraint::Mtls;
  });
  for (std::size_t i = 0; i < gw.trusted_proxies.size(); ++i) {
    if (!core::parse_cidr(gw.trusted_proxies[i])) {
      c.add(p + ".trusted_proxies[" + std::to_string(i) + "]",
            "'" + gw.trusted_proxies[i] +
                "' is not an IP address or CIDR range (e.g. 10.0.0.0/8), or has host bits set");
    }
  }
  c.range(p + ".upstream_retries", gw.upstream_retries, 0, 10);
  if (any_mtls && !behind_proxy && gw.listener.tls &&
      gw.listener.tls->client_cert == ClientCertMode::None) {
    c.add(p + ".listener.tls.client_cert",
          "routes with sender_constraint 'mtls' need a client certificate (required or optional)");
  }
  if (gw.listener.tls && gw.listener.tls->client_cert == ClientCertMode::RequiredAny) {
    // The gateway binds tokens to certificates the CA vouches for; it has no per-client key
    // registry to judge an unverified one by.
    c.add(p + ".listener.tls.client_cert",
          "'required_any' is only for the authorization server's mtls listener; use 'required'");
  }
  if (gw.realm.empty() || gw.realm.find_first_of("\"\\\r\n") != std::string::npos) {
    c.add(p + ".realm", "must be a non-empty string without '\"', '\\' or line breaks");
  }
  if (gw.issuers.empty()) {
    c.add(p + ".issuers", "the gateway needs at least one issuer");
  }
  if (gw.routes.empty()) {
    c.add(p + ".routes", "the gateway needs at least one route");
  }
  std::set<std::string> issuer_ids;
  int opaque_issuers = 0;
  for (std::size_t i = 0; i < gw.issuers.size(); ++i) {
    const Issuer& is = gw.issuers[i];
    std::string ip = p + ".issuers[" + std::to_string(i) + "]";
    if (c.required(ip + ".issuer", is.issuer)) {
      c.issuer_url(ip + ".issuer", is.issuer, false);
      if (!issuer_ids.insert(is.issuer).second) {
        c.add(ip + ".issuer", "duplicate issuer '" + is.issuer + "'");
      }
    }
    // Empty: discovered from {issuer}/.well-known/openid-configuration (OIDC Discovery §4).
    if (!is.jwks_uri.empty()) {
      c.https_url(ip + ".jwks_uri", is.jwks_uri);
    }
    if (!is.introspection_endpoint.empty()) {
      c.https_url(ip + ".introspection_endpoint", is.introspection_endpoint);
    }
    if (is.audiences.empty()) {
      c.add(ip + ".audiences", "must list at least one audience");
    }
    for (std::size_t j = 0; j < is.audiences.size(); ++j) {
      c.required(ip + ".audiences[" + std::to_string(j) + "]", is.audiences[j]);
    }
    c.readable_file(ip + ".ca_file", is.ca_file);
    if (is.client_cert_file.empty() != is.client_key_file.empty()) {
      c.add(ip, "client_cert_file and client_key_file go together");
    }
    c.readable_file(ip + ".client_cert_file", is.client_cert_file);
    c.readable_file(ip + ".client_key_file", is.client_key_file);
    c.readable_file(ip + ".extra_keys_file", is.extra_keys_file);
    c.range(ip + ".jwks_refetch_min_interval", is.jwks_refetch_min_interval, 0, 3'600, "seconds");
    c.range(ip + ".jwks_max_age", is.jwks_max_age, 1, 86'400, "seconds");
    c.range(ip + ".jwks_min_age", is.jwks_min_age, 1, 86'400, "seconds");
    if (is.jwks_min_age > is.jwks_max_age) {
      c.add(ip + ".jwks_min_age", "must not exceed jwks_max_age (" +
                                      std::to_string(is.jwks_max_age) + " seconds)");
    }
    c.range(ip + ".jwks_max_stale", is.jwks_max_stale, 0, 30 * 86'400, "seconds");
    c.range(ip + ".fetch_timeout_ms", is.fetch_timeout_ms, 1, 60'000, "milliseconds");
    c.range(ip + ".introspection_inactive_cache", is.introspection_inactive_cache, 0, 300,
            "seconds");
    c.range(ip + ".jwt_revocation_check", is.jwt_revocation_check, 0, 3'600, "seconds");
    if (is.opaque_tokens && ++opaque_issuers > 1) {
      c.add(ip + ".opaque_tokens",
            "only one issuer may take opaque tokens (an opaque token does not name its issuer)");
    }
    if (is.opaque_tokens || is.jwt_revocation_check > 0) {
      // Both introspect at this issuer, over mTLS, as this gateway's client.
      const std::string why =
          is.opaque_tokens ? "opaque_tokens is true" : "jwt_revocation_check is set";
      c.required(ip + ".introspection_client_id", is.introspection_client_id);
      if (is.introspection_endpoint.empty() && !is.jwks_uri.empty()) {
        c.add(ip + ".introspection_endpoint",
              "required when " + why + " and jwks_uri is set (no discovery)");
      }
      if (is.client_cert_file.empty()) {
        c.add(ip + ".client_cert_file",
              "required when " + why + " (introspection is authenticated with mTLS)");
      }
    }
    c.range(ip + ".clock_skew", is.clock_skew, 0, 300, "seconds");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < gw.routes.size(); ++i) {
    const Route& r = gw.routes[i];
    std::string rp = p + ".routes[" + std::to_string(i) + "]";
    if (!r.name.empty() && !names.insert(r.name).second) {
      c.add(rp + ".name", "duplicate route name '" + r.name + "'");
    }
    if (c.required(rp + ".path", r.path)) {
      if (r.path.front() != '/') {
        c.add(rp + ".path", "must start with '/'");
      } else if (auto star = r.path.find('*'); star != std::string::npos &&
                                                star != r.path.size() - 1) {
        c.add(rp + ".path", "'*' is only allowed as the last character (a prefix match)");
      } else {
        check_route_path(c, rp + ".path", r.path);
      }
    }
    if (!r.host.empty() && !is_host_name(r.host)) {
      c.add(rp + ".host", "'" + r.host + "' is not a host name (letters, digits, '-', '.')");
    }
    for (std::size_t j = 0; j < r.methods.size(); ++j) {
      c.method_token(rp + ".methods[" + std::to_string(j) + "]", r.methods[j]);
    }
    for (std::size_t j = 0; j < r.scopes.size(); ++j) {
      c.scope_token(rp + ".scopes[" + std::to_string(j) + "]", r.scopes[j]);
    }
    for (std::size_t j = 0; j < r.scopes_any.size(); ++j) {
      c.scope_token(rp + ".scopes_any[" + std::to_string(j) + "]", r.scopes_any[j]);
    }
    for (const auto& ms : r.method_scopes) {
      std::string mp = rp + ".method_scopes." + ms.method;
      c.method_token(mp, ms.method);
      if (!r.methods.empty() &&
          std::find(r.methods.begin(), r.methods.end(), ms.method) == r.methods.end()) {
        c.add(mp, "method '" + ms.method + "' is not in this route's methods");
      }
      if (ms.scopes.empty()) {
        c.add(mp, "must list at least one scope");
      }
      for (std::size_t j = 0; j < ms.scopes.size(); ++j) {
        c.scope_token(mp + "[" + std::to_string(j) + "]", ms.scopes[j]);
      }
    }
    if (r.upstreams.empty()) {
      if (c.required(rp + ".upstream", r.upstream)) {
        c.upstream_url(rp + ".upstream", r.upstream);
      }
    } else if (!r.upstream.empty()) {
      c.upstream_url(rp + ".upstream", r.upstream);
    }
    for (std::size_t j = 0; j < r.upstreams.size(); ++j) {
      c.upstream_url(rp + ".upstreams[" + std::to_string(j) + "]", r.upstreams[j]);
    }
    if (r.upstream_tls) {
      const std::string tp = rp + ".upstream_tls";
      if (r.upstream_tls->client_cert_file.empty() != r.upstream_tls->client_key_file.empty()) {
        c.add(tp, "client_cert_file and client_key_file go together");
      }
      c.readable_file(tp + ".ca_file", r.upstream_tls->ca_file);
      c.readable_file(tp + ".client_cert_file", r.upstream_tls->client_cert_file);
      c.readable_file(tp + ".client_key_file", r.upstream_tls->client_key_file);
    }
    for (std::size_t j = 0; j < r.audiences.size(); ++j) {
      c.required(rp + ".audiences[" + std::to_string(j) + "]", r.audiences[j]);
    }
    for (const auto& ch : r.claim_headers) {
      std::string hp = rp + ".claim_headers." + ch.header;
      if (!is_header_name(ch.header)) {
        c.add(hp, "'" + ch.header + "' is not a valid header name");
      } else if (is_gateway_owned_header(ch.header)) {
        c.add(hp, "'" + ch.header + "' is set by the gateway itself and cannot carry a claim");
      }
      if (ch.claim.empty()) {
        c.add(hp, "must name a claim");
      }
    }
    if (r.upstream_token == UpstreamToken::Gateway && !gw.upstream_token_signing) {
      c.add(rp + ".upstream_token",
            "'gateway' needs gateway.upstream_token_signing (the key the gateway signs with)");
    }
    if (!r.upstream_audience.empty() && r.upstream_token != UpstreamToken::Gateway) {
      c.add(rp + ".upstream_audience", "applies only with upstream_token: gateway");
    }
    if (!r.scope_header.empty()) {
      if (!is_header_name(r.scope_header) || is_gateway_owned_header(r.scope_header)) {
        c.add(rp + ".scope_header", "'" + r.scope_header + "' is not a usable header name");
      }
      if (!behind_proxy) {
        c.add(rp + ".scope_header",
              "needs gateway.trusted_proxies (the header is believed only from them)");
      }
    }
    for (std::size_t j = 0; j < r.issuers.size(); ++j) {
      if (!issuer_ids.count(r.issuers[j])) {
        c.add(rp + ".issuers[" + std::to_string(j) + "]",
              "unknown issuer '" + r.issuers[j] + "'; it must be one of gateway.issuers");
      }
    }
  }
  if (gw.upstream_token_signing) {
    const std::string sp = p + ".upstream_token_signing";
    const auto& sg = *gw.upstream_token_signing;
    if (c.required(sp + ".key_file", sg.key_file)) {
      c.readable_file(sp + ".key_file", sg.key_file);
    }
    c.required(sp + ".issuer", sg.issuer);
    c.range(sp + ".lifetime_seconds", sg.lifetime, 1, 3600, "seconds");
  }
  c.range(p + ".verified_token_cache_entries", gw.verified_token_cache_entries, 0, 10'000'000);
  c.range(p + ".upstream_timeout_ms", gw.upstream_timeout_ms, 1, 600'000, "milliseconds");
  c.range(p + ".upstream_connect_timeout_ms", gw.upstream_connect_timeout_ms, 1, 600'000,
          "milliseconds");
  c.range(p + ".upstream_max_idle_connections", gw.upstream_max_idle_connections, 0, 100'000);
}

bool is_loopback(const std::string& a) {
  return a == "localhost" || a == "::1" || a == "[::1]" || a.rfind("127.", 0) == 0;
}

// Metrics and readiness describe traffic, routes and issuers: served in clear text they stay on
// loopback unless the operator adds TLS or says explicitly that the network may read them.
void check_admin(Checker& c, const Admin& admin, std::vector<Bound>& bound) {
  c.listener("admin.listener", admin.listener, false);
  if (!admin.listener.tls && !is_loopback(admin.listener.address) &&
      !admin.allow_plaintext_remote) {
    c.add("admin.listener.address",
          "'" + admin.listener.address +
              "' is not a loopback address and the admin listener has no tls; use 127.0.0.1, "
              "add admin.listener.tls, or set admin.allow_plaintext_remote: true");
  }
  bound.push_back({"admin.listener", admin.listener.address, admin.listener.port});
}

// A server name as a passthrough route matches it: a DNS name, or "*." and one (RFC 6125 §6.4.3
// style: the star stands for exactly one leftmost label).
bool valid_server_name_pattern(std::string_view v) {
  if (v.rfind("*.", 0) == 0) {
    v.remove_prefix(2);
  }
  if (v.empty() || v.size() > 253 || v.back() == '.' || v.front() == '.') {
    return false;
  }
  return std::all_of(v.begin(), v.end(), [](char ch) {
           return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
         }) &&
         v.find("..") == std::string_view::npos;
}

void check_passthrough(Checker& c, const Passthrough& pt, std::vector<Bound>& bound) {
  const std::string p = "passthrough";
  c.required(p + ".listener.address", pt.listener.address);
  if (pt.listener.tls) {
    c.add(p + ".listener.tls",
          "a passthrough listener does not terminate TLS (the backends do); remove tls");
  }
  bound.push_back({p + ".listener", pt.listener.address, pt.listener.port});
  if (pt.routes.empty() && pt.default_backend.empty()) {
    c.add(p + ".routes", "needs at least one route or a default_backend");
  }
  // A backend that is this very listener would loop every connection back into itself.
  auto self_loop = [&pt](const HostPort& hp) {
    if (pt.listener.port == 0 || hp.port != pt.listener.port) {
      return false;
    }
    const std::string& a = pt.listener.address;
    return hp.host == a || wildcard(a) ||
           ((hp.host == "localhost" || hp.host.rfind("127.", 0) == 0 || hp.host == "::1") &&
            (a == "localhost" || a.rfind("127.", 0) == 0 || a == "::1"));
  };
  auto backend = [&](const std::string& path, const std::string& v) {
    auto hp = parse_host_port(v);
    if (!hp) {
      c.add(path, "'" + v + "' is not host:port (a port 1..65535; [v6]:port for IPv6)");
    } else if (self_loop(*hp)) {
      c.add(path, "'" + v + "' is the passthrough listener itself");
    }
  };
  std::set<std::string> names;
  for (std::size_t i = 0; i < pt.routes.size(); ++i) {
    const std::string rp = p + ".routes[" + std::to_string(i) + "]";
    const PassthroughRoute& r = pt.routes[i];
    if (c.required(rp + ".server_name", r.server_name)) {
      if (!valid_server_name_pattern(r.server_name)) {
        c.add(rp + ".server_name",
              "'" + r.server_name + "' is not a DNS name (or *. and a DNS name)");
      }
      std::string lower = r.server_name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (!names.insert(lower).second) {
        c.add(rp + ".server_name", "duplicate server_name '" + r.server_name + "'");
      }
    }
    if (c.required(rp + ".backend", r.backend)) {
      backend(rp + ".backend", r.backend);
    }
  }
  if (!pt.default_backend.empty()) {
    backend(p + ".default_backend", pt.default_backend);
  }
  c.range(p + ".client_hello_timeout_ms", pt.client_hello_timeout_ms, 1, 600'000,
          "milliseconds");
  c.range(p + ".connect_timeout_ms", pt.connect_timeout_ms, 1, 600'000, "milliseconds");
  c.range(p + ".idle_timeout_ms", pt.idle_timeout_ms, 1, 86'400'000, "milliseconds");
  c.range(p + ".max_connections", pt.max_connections, 1, 1'000'000);
}

void check_limits(Checker& c, const Limits& l) {
  const std::string p = "limits";
  c.range(p + ".max_header_bytes", l.max_header_bytes, 1'024, 1'048'576, "bytes");
  c.range(p + ".max_header_count", l.max_header_count, 1, 10'000);
  c.range(p + ".max_body_bytes", l.max_body_bytes, 1'024, 67'108'864, "bytes");
  c.range(p + ".handshake_timeout_ms", l.handshake_timeout_ms, 1, 3'600'000, "milliseconds");
  c.range(p + ".read_timeout_ms", l.read_timeout_ms, 1, 3'600'000, "milliseconds");
  c.range(p + ".idle_timeout_ms", l.idle_timeout_ms, 1, 3'600'000, "milliseconds");
  c.range(p + ".write_timeout_ms", l.write_timeout_ms, 1, 3'600'000, "milliseconds");
  c.range(p + ".max_requests_per_connection", l.max_requests_per_connection, 1, 1'000'000);
}

}  // namespace

namespace detail {

std::vector<Issue> validate_issues(const Config& config) {
  Checker c;
  c.range("threads", config.threads, 0, 1'024);
  check_limits(c, config.limits);
  if (!one_of(config.log.level, kLogLevels)) {
    c.add("log.level", one_of_message(config.log.level, kLogLevels));
  }
  if (!one_of(config.log.format, kLogFormats)) {
    c.add("log.format", one_of_message(config.log.format, kLogFormats));
  }
  c.required("store.sqlite_path", config.store.sqlite_path);
  c.range("store.purge_interval_seconds", config.store.purge_interval_seconds, 0, 86'400,
          "seconds");
  std::vector<Bound> bound;
  if (config.authorization_server.enabled) {
    check_authorization_server(c, config.authorization_server, bound);
  }
  if (config.gateway.enabled) {
    check_gateway(c, config.gateway, bound);
  }
  if (config.demo_api.enabled) {
    c.listener("demo_api.listener", config.demo_api.listener, false);
    bound.push_back({"demo_api.listener", config.demo_api.listener.address,
                     config.demo_api.listener.port});
  }
  if (config.admin.enabled) {
    check_admin(c, config.admin, bound);
  }
  if (config.passthrough.enabled) {
    check_passthrough(c, config.passthrough, bound);
  }
  check_listener_overlap(c, bound);
  return std::move(c.issues);
}

}  // namespace detail

std::vector<std::string> validate(const Config& config) {
  std::vector<std::string> out;
  try {
    for (const auto& i : detail::validate_issues(config)) {
      out.push_back(detail::format_issue(config.source, i));
    }
  } catch (const std::exception& e) {
    out.push_back(detail::format_issue(config.source,
                                       {"", std::string("validation failed: ") + e.what()}));
  }
  return out;
}

}  // namespace fapigate::config
