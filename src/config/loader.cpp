// YAML -> Config. yaml-cpp is used only here and every exception it (or the allocator) throws is
// caught in load_string, so nothing escapes config/. The document is walked against the schema:
// every key a section reads is "known", and whatever is left over is an unknown-key error, so a
// typo never silently falls back to a default.
#include "config/loader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "config/detail.hpp"

namespace fapigate::config {
namespace {

constexpr std::size_t kMaxFileBytes = 1024 * 1024;
// yaml-cpp shares an aliased node instead of copying it, so parsing stays linear in the input,
// but a walk that follows aliases is exponential ("billion laughs") and `&a [*a]` is a cycle.
// BudgetCounter checks both limits on the event stream before the tree is built.
constexpr std::size_t kMaxNodes = 100'000;
constexpr std::size_t kMaxDepth = 64;
constexpr std::size_t kMaxIssues = 100;

using detail::Issue;

// ---------------------------------------------------------------------------------------------
// Issues and paths

class Issues {
public:
  void add(std::string path, std::string message) {
    if (list_.size() < kMaxIssues) {
      list_.push_back({std::move(path), std::move(message)});
    } else {
      truncated_ = true;
    }
  }
  // Marks a path as dealt with although nothing is reported there: a key that is missing
  // because the user misspelt it must not be reported a second time as missing.
  void cover(std::string path) { covered_.push_back({std::move(path), {}}); }
  std::vector<Issue>& list() { return list_; }
  const std::vector<Issue>& covered() const { return covered_; }
  bool truncated() const { return truncated_; }

private:
  std::vector<Issue> list_;
  std::vector<Issue> covered_;
  bool truncated_ = false;
};

std::string join_key(const std::string& parent, std::string_view key) {
  if (parent.empty()) {
    return std::string(key);
  }
  std::string p = parent;
  p += '.';
  p += key;
  return p;
}

std::string join_index(const std::string& parent, std::size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

const char* type_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "an empty value";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

// Quotes a user value for a message, shortened so that a huge scalar cannot flood the log.
std::string show_value(std::string_view v) {
  constexpr std::size_t kMax = 40;
  std::string out = "'";
  if (v.size() > kMax) {
    out.append(v.substr(0, kMax));
    out += "...";
  } else {
    out.append(v);
  }
  out += '\'';
  return out;
}

// ---------------------------------------------------------------------------------------------
// Node budget, checked on the event stream before any tree is built: the tree of a 1 MiB file
// of tiny items would take hundreds of MiB. Aliases count as the size of what they refer to,
// so the budget is on the document as the schema walk would see it; an alias inside its own
// anchor (a cycle, which yaml-cpp accepts) is refused outright.

struct OverBudget {};

class BudgetCounter final : public YAML::EventHandler {
public:
  std::size_t documents = 0;

  void OnDocumentStart(const YAML::Mark&) override {
    ++documents;
    sizes_.clear();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(anchor); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(anchor);
  }
  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    auto it = sizes_.find(anchor);
    if (it == sizes_.end()) {
      throw OverBudget{};  // refers to a node still open: a cycle
    }
    add(it->second);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnMapEnd() override { close(); }

private:
  void add(std::size_t n) {
    count_ += n;
    if (count_ > kMaxNodes) {
      throw OverBudget{};
    }
  }
  void leaf(YAML::anchor_t anchor) {
    add(1);
    if (anchor) {
      sizes_[anchor] = 1;
    }
  }
  void open(YAML::anchor_t anchor) {
    std::size_t before = count_;
    add(1);
    if (open_.size() >= kMaxDepth) {
      throw OverBudget{};
    }
    open_.push_back({anchor, before});
  }
  void close() {
    if (open_.empty()) {
      return;
    }
    auto [anchor, before] = open_.back();
    open_.pop_back();
    if (anchor) {
      sizes_[anchor] = count_ - before;
    }
  }

  std::size_t count_ = 0;
  std::vector<std::pair<YAML::anchor_t, std::size_t>> open_;
  std::unordered_map<YAML::anchor_t, std::size_t> sizes_;
};

// ---------------------------------------------------------------------------------------------
// Typed scalar conversion. YAML 1.2 core schema for booleans (no yes/no/on/off), plain decimal
// integers (no 0x, no 1e3, no 1_000): a config value means one thing.

std::optional<bool> to_bool(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  return std::nullopt;
}

enum class IntParse { Ok, NotInteger, OutOfRange };

IntParse to_int64(const std::string& s, std::int64_t& out) {
  std::string_view v = s;
  if (!v.empty() && v.front() == '+') {
    v.remove_prefix(1);
  }
  if (v.empty() || !(v.front() == '-' || (v.front() >= '0' && v.front() <= '9'))) {
    return IntParse::NotInteger;
  }
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec == std::errc::result_out_of_range) {
    return IntParse::OutOfRange;
  }
  if (ec != std::errc{} || ptr != v.data() + v.size()) {
    return IntParse::NotInteger;
  }
  return IntParse::Ok;
}

template <class E>
struct EnumName {
  std::string_view name;
  E value;
};

constexpr EnumName<ClientCertMode> kClientCertModes[] = {
    {"none", ClientCertMode::None},
    {"optional", ClientCertMode::Optional},
    {"required", ClientCertMode::Required},
    {"required_any", ClientCertMode::RequiredAny},
};

constexpr EnumName<ClientAssertionAudience> kClientAssertionAudiences[] = {
    {"issuer", ClientAssertionAudience::Issuer},
    {"issuer_or_endpoint", ClientAssertionAudience::IssuerOrEndpoint},
};

constexpr EnumName<AccessTokenFormat> kAccessTokenFormats[] = {
    {"jwt", AccessTokenFormat::Jwt},
    {"opaque", AccessTokenFormat::Opaque},
};

// The same names for a resource's own setting, where absence means "the AS-wide default".
constexpr EnumName<std::optional<AccessTokenFormat>> kResourceTokenFormats[] = {
    {"jwt", AccessTokenFormat::Jwt},
    {"opaque", AccessTokenFormat::Opaque},
};

constexpr EnumName<SenderConstraint> kSenderConstraints[] = {
    {"mtls", SenderConstraint::Mtls},
    {"none", SenderConstraint::None},
};

constexpr EnumName<UpstreamToken> kUpstreamTokens[] = {
    {"incoming", UpstreamToken::Incoming},
    {"gateway", UpstreamToken::Gateway},
};

// ---------------------------------------------------------------------------------------------
// MapReader: one YAML mapping read against a schema. Each read_* call declares its key known
// (whether present or not); finish() reports every other key as unknown, with a suggestion.

class MapReader {
public:
  MapReader(Issues& issues, const YAML::Node& node, std::string path)
      : issues_(issues), path_(std::move(path)) {
    for (const auto& kv : node) {
      const YAML::Node& k = kv.first;
      if (!k.IsScalar()) {
        issues_.add(path_, std::string("a key must be a plain string, got ") + type_name(k));
        continue;
      }
      const std::string& key = k.Scalar();
      auto dup = std::find_if(entries_.begin(), entries_.end(),
                              [&key](const Entry& e) { return e.key == key; });
      if (dup != entries_.end()) {
        issues_.add(join_key(path_, key), "duplicate key");
        continue;
      }
      entries_.push_back({key, kv.second});
    }
  }

  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return join_key(path_, key); }

  // The value node, or nullptr when absent. Declares the key known.
  const YAML::Node* find(std::string_view key) {
    known_.emplace_back(key);
    for (const auto& e : entries_) {
      if (e.key == key) {
        return &e.value;
      }
    }
    return nullptr;
  }

  void read(std::string_view key, std::string& out) {
    if (const YAML::Node* n = find(key)) {
      read_string(*n, path_of(key), out);
    }
  }

  void read(std::string_view key, bool& out) {
    const YAML::Node* n = find(key);
    if (!n) {
      return;
    }
    if (n->IsScalar()) {
      if (auto b = to_bool(n->Scalar())) {
        out = *b;
        return;
      }
      issues_.add(path_of(key), "expected true or false, got " + show_value(n->Scalar()));
      return;
    }
    issues_.add(path_of(key), std::string("expected true or false, got ") + type_name(*n));
  }

  template <class Int>
    requires std::is_integral_v<Int>
  void read(std::string_view key, Int& out) {
    const YAML::Node* n = find(key);
    if (!n) {
      return;
    }
    if (!n->IsScalar()) {
      issues_.add(path_of(key), std::string("expected an integer, got ") + type_name(*n));
      return;
    }
    std::int64_t v = 0;
    IntParse p = to_int64(n->Scalar(), v);
    if (p == IntParse::NotInteger) {
      issues_.add(path_of(key), "expected an integer, got " + show_value(n->Scalar()));
      return;
    }
    using Limits = std::numeric_limits<Int>;
    constexpr std::int64_t lo = std::is_signed_v<Int> ? std::int64_t(Limits::min()) : 0;
    constexpr std::int64_t hi = std::uint64_t(Limits::max()) > std::uint64_t(INT64_MAX)
                                    ? INT64_MAX
                                    : std::int64_t(Limits::max());
    if (p == IntParse::OutOfRange || v < lo || v > hi) {
      issues_.add(path_of(key),
                  "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
      return;
    }
    out = static_cast<Int>(v);
  }

  void read(std::string_view key, std::vector<std::string>& out) {
    const YAML::Node* n = find(key);
    if (!n) {
      return;
    }
    std::string path = path_of(key);
    if (!n->IsSequence()) {
      issues_.add(path, std::string("expected a list of strings, got ") + type_name(*n));
      return;
    }
    out.clear();
    std::size_t i = 0;
    for (const auto& item : *n) {
      std::string s;
      if (read_string(item, join_index(path, i), s)) {
        out.push_back(std::move(s));
      }
      ++i;
    }
  }

  template <class E, std::size_t N>
  void read_enum(std::string_view key, const EnumName<E> (&names)[N], E& out) {
    const YAML::Node* n = find(key);
    if (!n) {
      return;
    }
    std::string s;
    if (!read_string(*n, path_of(key), s)) {
      return;
    }
    for (const auto& e : names) {
      if (e.name == s) {
        out = e.value;
        return;
      }
    }
    std::string allowed;
    for (const auto& e : names) {
      allowed += allowed.empty() ? "" : ", ";
      allowed += e.name;
    }
    issues_.add(path_of(key), "invalid value " + show_value(s) + "; must be one of: " + allowed);
  }

  // A nested mapping; nullptr (and an issue) when present but not a mapping.
  const YAML::Node* find_map(std::string_view key) {
    const YAML::Node* n = find(key);
    if (n && !n->IsMap()) {
      issues_.add(path_of(key), std::string("expected a mapping, got ") + type_name(*n));
      return nullptr;
    }
    return n;
  }

  const YAML::Node* find_seq(std::string_view key) {
    const YAML::Node* n = find(key);
    if (n && !n->IsSequence()) {
      issues_.add(path_of(key), std::string("expected a list, got ") + type_name(*n));
      return nullptr;
    }
    return n;
  }

  void finish() {
    for (const auto& e : entries_) {
      if (std::find(known_.begin(), known_.end(), e.key) != known_.end()) {
        continue;
      }
      std::string msg = "unknown key";
      if (auto s = suggest(e.key)) {
        msg += "; did you mean '" + *s + "'?";
        issues_.cover(path_of(*s));
      }
      issues_.add(path_of(e.key), std::move(msg));
    }
  }

private:
  struct Entry {
    std::string key;
    YAML::Node value;
  };

  bool read_string(const YAML::Node& n, const std::string& path, std::string& out) {
    if (n.IsScalar()) {
      out = n.Scalar();
      return true;
    }
    issues_.add(path, std::string("expected a string, got ") + type_name(n));
    return false;
  }

  std::optional<std::string> suggest(const std::string& key) const {
    std::optional<std::string> best;
    std::size_t best_d = std::numeric_limits<std::size_t>::max();
    // Close enough to be a typo: a third of the length, at least 1, at most 3 edits.
    std::size_t limit = std::clamp<std::size_t>(key.size() / 3, 1, 3);
    for (const auto& k : known_) {
      std::size_t d = detail::edit_distance(key, k);
      if (d <= limit && d < best_d) {
        best_d = d;
        best = k;
      }
    }
    return best;
  }

  Issues& issues_;
  std::string path_;
  std::vector<Entry> entries_;
  std::vector<std::string> known_;
};

// ---------------------------------------------------------------------------------------------
// Sections

void read_limits(Issues& is, const YAML::Node& n, const std::string& path, Limits& out) {
  MapReader m(is, n, path);
  m.read("max_header_bytes", out.max_header_bytes);
  m.read("max_header_count", out.max_header_count);
  m.read("max_body_bytes", out.max_body_bytes);
  m.read("handshake_timeout_ms", out.handshake_timeout_ms);
  m.read("read_timeout_ms", out.read_timeout_ms);
  m.read("idle_timeout_ms", out.idle_timeout_ms);
  m.read("write_timeout_ms", out.write_timeout_ms);
  m.read("max_requests_per_connection", out.max_requests_per_connection);
  m.finish();
}

void read_tls(Issues& is, const YAML::Node& n, const std::string& path, Tls& out) {
  MapReader m(is, n, path);
  m.read("cert_file", out.cert_file);
  m.read("key_file", out.key_file);
  m.read("client_ca_file", out.client_ca_file);
  m.read_enum("client_cert", kClientCertModes, out.client_cert);
  m.read("tls12_dhe_suites", out.tls12_dhe_suites);
  m.finish();
}

// `default_client_cert` is the role's default when `tls.client_cert` is not given: the AS mTLS
// listener and the gateway require a client certificate unless told otherwise.
void read_listener(MapReader& parent, std::string_view key, Listener& out,
                   ClientCertMode default_client_cert, Issues& is) {
  const YAML::Node* n = parent.find_map(key);
  if (!n) {
    return;
  }
  MapReader m(is, *n, parent.path_of(key));
  m.read("address", out.address);
  m.read("port", out.port);
  if (const YAML::Node* t = m.find_map("tls")) {
    Tls tls;
    tls.client_cert = default_client_cert;
    read_tls(is, *t, m.path_of("tls"), tls);
    out.tls = std::move(tls);
  }
  m.finish();
}

void read_client(Issues& is, const YAML::Node& n, const std::string& path,
                 ClientRegistration& out) {
  MapReader m(is, n, path);
  m.read("client_id", out.client_id);
  m.read("token_endpoint_auth_method", out.token_endpoint_auth_method);
  m.read("tls_client_auth_subject_dn", out.tls_client_auth_subject_dn);
  m.read("tls_client_auth_san_dns", out.tls_client_auth_san_dns);
  m.read("tls_client_auth_san_uri", out.tls_client_auth_san_uri);
  m.read("tls_client_auth_san_ip", out.tls_client_auth_san_ip);
  m.read("tls_client_auth_san_email", out.tls_client_auth_san_email);
  m.read("jwks_file", out.jwks_file);
  m.read("grant_types", out.grant_types);
  m.read("scopes", out.scopes);
  m.read("redirect_uris", out.redirect_uris);
  m.read("profile", out.profile);
  m.read("response_types", out.response_types);
  m.read("id_token_signed_response_alg", out.id_token_signed_response_alg);
  m.read("authorization_signed_response_alg", out.authorization_signed_response_alg);
  m.read("request_object_signing_alg", out.request_object_signing_alg);
  m.read("id_token_encrypted_response_alg", out.id_token_encrypted_response_alg);
  m.read("id_token_encrypted_response_enc", out.id_token_encrypted_response_enc);
  m.read("require_pushed_authorization_requests", out.require_pushed_authorization_requests);
  m.read("refresh_token_rotation", out.refresh_token_rotation);
  m.finish();
}

// A list of mappings. Elements that are not mappings still take their slot, so that indexes in
// later messages match the file.
template <class T, class ReadOne>
void read_list(MapReader& parent, std::string_view key, std::vector<T>& out, Issues& is,
               ReadOne read_one) {
  const YAML::Node* n = parent.find_seq(key);
  if (!n) {
    return;
  }
  std::string path = parent.path_of(key);
  out.clear();
  std::size_t i = 0;
  for (const auto& item : *n) {
    std::string ipath = join_index(path, i);
    T value;
    if (item.IsMap()) {
      read_one(is, item, ipath, value);
    } else {
      is.add(ipath, std::string("expected a mapping, got ") + type_name(item));
    }
    out.push_back(std::move(value));
    ++i;
  }
}

void read_resource(Issues& is, const YAML::Node& n, const std::string& path,
                   ResourceServer& out) {
  MapReader m(is, n, path);
  m.read("audience", out.audience);
  m.read_enum("access_token_format", kResourceTokenFormats, out.access_token_format);
  m.read("introspection_clients", out.introspection_clients);
  m.finish();
}

void read_user(Issues& is, const YAML::Node& n, const std::string& path, User& out) {
  MapReader m(is, n, path);
  m.read("username", out.username);
  m.read("password_hash", out.password_hash);
  m.finish();
}

void read_registration(Issues& is, const YAML::Node& n, const std::string& path,
                       DynamicRegistration& out) {
  MapReader m(is, n, path);
  m.read("enabled", out.enabled);
  m.read("initial_access_tokens", out.initial_access_tokens);
  m.read("initial_access_tokens_file", out.initial_access_tokens_file);
  m.read("software_statement_required", out.software_statement_required);
  m.read("software_statement_jwks_file", out.software_statement_jwks_file);
  m.read("software_statement_issuer", out.software_statement_issuer);
  m.read("software_statement_max_age", out.software_statement_max_age);
  m.finish();
}

void read_authorization_server(Issues& is, const YAML::Node& n, const std::string& path,
                               AuthorizationServer& out) {
  MapReader m(is, n, path);
  m.read("enabled", out.enabled);
  m.read("issuer", out.issuer);
  m.read("mtls_base_url", out.mtls_base_url);
  read_listener(m, "front", out.front, ClientCertMode::None, is);
  read_listener(m, "mtls", out.mtls, ClientCertMode::Required, is);
  m.read("signing_alg", out.signing_alg);
  m.read("access_token_lifetime", out.access_token_lifetime);
  m.read("id_token_lifetime", out.id_token_lifetime);
  m.read("login_acr", out.login_acr);
  m.read("login_max_failures_per_user", out.login_max_failures_per_user);
  m.read("login_max_failures_per_address", out.login_max_failures_per_address);
  m.read("login_failure_window", out.login_failure_window);
  m.read("refresh_token_lifetime", out.refresh_token_lifetime);
  m.read("access_token_audiences", out.access_token_audiences);
  m.read("record_client_credentials_tokens", out.record_client_credentials_tokens);
  m.read("scopes_supported", out.scopes_supported);
  read_list(m, "clients", out.clients, is, read_client);
  read_list(m, "users", out.users, is, read_user);
  m.read_enum("access_token_format", kAccessTokenFormats, out.access_token_format);
  read_list(m, "resources", out.resources, is, read_resource);
  m.read("introspection_by_token_owner", out.introspection_by_token_owner);
  m.read_enum("client_assertion_audience", kClientAssertionAudiences,
              out.client_assertion_audience);
  m.read("key_encryption_key_file", out.key_encryption_key_file);
  m.read("key_publish_ahead", out.key_publish_ahead);
  m.read("key_refresh_interval", out.key_refresh_interval);
  if (const YAML::Node* r = m.find_map("registration")) {
    read_registration(is, *r, m.path_of("registration"), out.registration);
  }
  m.finish();
}

void read_issuer(Issues& is, const YAML::Node& n, const std::string& path, Issuer& out) {
  MapReader m(is, n, path);
  m.read("issuer", out.issuer);
  m.read("jwks_uri", out.jwks_uri);
  m.read("ca_file", out.ca_file);
  m.read("client_cert_file", out.client_cert_file);
  m.read("client_key_file", out.client_key_file);
  m.read("audiences", out.audiences);
  m.read("extra_keys_file", out.extra_keys_file);
  m.read("jwks_refetch_min_interval", out.jwks_refetch_min_interval);
  m.read("jwks_max_age", out.jwks_max_age);
  m.read("jwks_min_age", out.jwks_min_age);
  m.read("jwks_max_stale", out.jwks_max_stale);
  m.read("clock_skew", out.clock_skew);
  m.read("fetch_timeout_ms", out.fetch_timeout_ms);
  m.read("opaque_tokens", out.opaque_tokens);
  m.read("introspection_endpoint", out.introspection_endpoint);
  m.read("introspection_client_id", out.introspection_client_id);
  m.read("introspection_inactive_cache", out.introspection_inactive_cache);
  m.read("jwt_revocation_check", out.jwt_revocation_check);
  m.finish();
}

void read_upstream_tls(Issues& is, const YAML::Node& n, const std::string& path,
                       UpstreamTls& out) {
  MapReader m(is, n, path);
  m.read("ca_file", out.ca_file);
  m.read("client_cert_file", out.client_cert_file);
  m.read("client_key_file", out.client_key_file);
  m.finish();
}

// method_scopes: {GET: [accounts:read], POST: [accounts:write]}, in file order.
void read_method_scopes(Issues& is, const YAML::Node& n, const std::string& path,
                        std::vector<MethodScopes>& out) {
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) {
      is.add(path, std::string("a key must be a plain string, got ") + type_name(kv.first));
      continue;
    }
    const std::string kpath = join_key(path, kv.first.Scalar());
    MethodScopes ms;
    ms.method = kv.first.Scalar();
    if (!kv.second.IsSequence()) {
      is.add(kpath, std::string("expected a list of strings, got ") + type_name(kv.second));
      continue;
    }
    std::size_t i = 0;
    for (const auto& item : kv.second) {
      if (item.IsScalar()) {
        ms.scopes.push_back(item.Scalar());
      } else {
        is.add(join_index(kpath, i), std::string("expected a string, got ") + type_name(item));
      }
      ++i;
    }
    out.push_back(std::move(ms));
  }
}

// claim_headers: {X-User: sub}, in file order.
void read_claim_headers(Issues& is, const YAML::Node& n, const std::string& path,
                        std::vector<ClaimHeader>& out) {
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) {
      is.add(path, std::string("a key must be a plain string, got ") + type_name(kv.first));
      continue;
    }
    if (!kv.second.IsScalar()) {
      is.add(join_key(path, kv.first.Scalar()),
             std::string("expected a claim name, got ") + type_name(kv.second));
      continue;
    }
    out.push_back({kv.first.Scalar(), kv.second.Scalar()});
  }
}

void read_route(Issues& is, const YAML::Node& n, const std::string& path, Route& out) {
  MapReader m(is, n, path);
  m.read("name", out.name);
  m.read("host", out.host);
  m.read("path", out.path);
  m.read("methods", out.methods);
  m.read("scopes", out.scopes);
  m.read("scopes_any", out.scopes_any);
  if (const YAML::Node* ms = m.find_map("method_scopes")) {
    read_method_scopes(is, *ms, m.path_of("method_scopes"), out.method_scopes);
  }
  m.read("upstream", out.upstream);
  m.read("upstreams", out.upstreams);
  if (const YAML::Node* t = m.find_map("upstream_tls")) {
    UpstreamTls tls;
    read_upstream_tls(is, *t, m.path_of("upstream_tls"), tls);
    out.upstream_tls = std::move(tls);
  }
  m.read_enum("sender_constraint", kSenderConstraints, out.sender_constraint);
  m.read("issuers", out.issuers);
  m.read("audiences", out.audiences);
  if (const YAML::Node* ch = m.find_map("claim_headers")) {
    read_claim_headers(is, *ch, m.path_of("claim_headers"), out.claim_headers);
  }
  m.read("scope_header", out.scope_header);
  m.read_enum("upstream_token", kUpstreamTokens, out.upstream_token);
  m.read("upstream_audience", out.upstream_audience);
  m.finish();
}

void read_upstream_token_signing(Issues& is, const YAML::Node& n, const std::string& path,
                                 UpstreamTokenSigning& out) {
  MapReader m(is, n, path);
  m.read("key_file", out.key_file);
  m.read("kid", out.kid);
  m.read("issuer", out.issuer);
  m.read("lifetime_seconds", out.lifetime);
  m.finish();
}

void read_gateway(Issues& is, const YAML::Node& n, const std::string& path, Gateway& out) {
  MapReader m(is, n, path);
  m.read("enabled", out.enabled);
  read_listener(m, "listener", out.listener, ClientCertMode::Required, is);
  m.read("realm", out.realm);
  read_list(m, "issuers", out.issuers, is, read_issuer);
  read_list(m, "routes", out.routes, is, read_route);
  m.read("verified_token_cache_entries", out.verified_token_cache_entries);
  m.read("upstream_timeout_ms", out.upstream_timeout_ms);
  m.read("upstream_connect_timeout_ms", out.upstream_connect_timeout_ms);
  m.read("upstream_max_idle_connections", out.upstream_max_idle_connections);
  m.read("trusted_proxies", out.trusted_proxies);
  m.read("upstream_retries", out.upstream_retries);
  if (const YAML::Node* t = m.find_map("upstream_token_signing")) {
    UpstreamTokenSigning signing;
    read_upstream_token_signing(is, *t, m.path_of("upstream_token_signing"), signing);
    out.upstream_token_signing = std::move(signing);
  }
  m.finish();
}

void read_passthrough_route(Issues& is, const YAML::Node& n, const std::string& path,
                            PassthroughRoute& out) {
  MapReader m(is, n, path);
  m.read("server_name", out.server_name);
  m.read("backend", out.backend);
  m.finish();
}

void read_passthrough(Issues& is, const YAML::Node& n, Passthrough& out) {
  MapReader m(is, n, "passthrough");
  m.read("enabled", out.enabled);
  read_listener(m, "listener", out.listener, ClientCertMode::None, is);
  read_list(m, "routes", out.routes, is, read_passthrough_route);
  m.read("default_backend", out.default_backend);
  m.read("client_hello_timeout_ms", out.client_hello_timeout_ms);
  m.read("connect_timeout_ms", out.connect_timeout_ms);
  m.read("idle_timeout_ms", out.idle_timeout_ms);
  m.read("max_connections", out.max_connections);
  m.finish();
}

void read_config(Issues& is, const YAML::Node& root, Config& out) {
  MapReader m(is, root, "");
  m.read("threads", out.threads);
  m.read("pid_file", out.pid_file);
  if (const YAML::Node* n = m.find_map("passthrough")) {
    read_passthrough(is, *n, out.passthrough);
  }
  if (const YAML::Node* n = m.find_map("limits")) {
    read_limits(is, *n, "limits", out.limits);
  }
  if (const YAML::Node* n = m.find_map("log")) {
    MapReader l(is, *n, "log");
    l.read("level", out.log.level);
    l.read("format", out.log.format);
    l.finish();
  }
  if (const YAML::Node* n = m.find_map("store")) {
    MapReader s(is, *n, "store");
    s.read("sqlite_path", out.store.sqlite_path);
    s.read("purge_interval_seconds", out.store.purge_interval_seconds);
    s.finish();
  }
  if (const YAML::Node* n = m.find_map("authorization_server")) {
    read_authorization_server(is, *n, "authorization_server", out.authorization_server);
  }
  if (const YAML::Node* n = m.find_map("gateway")) {
    read_gateway(is, *n, "gateway", out.gateway);
  }
  if (const YAML::Node* n = m.find_map("demo_api")) {
    MapReader d(is, *n, "demo_api");
    d.read("enabled", out.demo_api.enabled);
    read_listener(d, "listener", out.demo_api.listener, ClientCertMode::None, is);
    d.finish();
  }
  if (const YAML::Node* n = m.find_map("admin")) {
    MapReader a(is, *n, "admin");
    a.read("enabled", out.admin.enabled);
    read_listener(a, "listener", out.admin.listener, ClientCertMode::None, is);
    a.read("allow_plaintext_remote", out.admin.allow_plaintext_remote);
    a.finish();
  }
  m.finish();
}

// ---------------------------------------------------------------------------------------------
// Relative paths are relative to the directory of the file that names them.

void resolve(std::string& p, const std::filesystem::path& base) {
  if (p.empty() || base.empty()) {
    return;
  }
  std::filesystem::path fp(p);
  if (fp.is_absolute()) {
    return;
  }
  p = (base / fp).lexically_normal().string();
}

void resolve_listener(Listener& l, const std::filesystem::path& base) {
  if (l.tls) {
    resolve(l.tls->cert_file, base);
    resolve(l.tls->key_file, base);
    resolve(l.tls->client_ca_file, base);
  }
}

void resolve_paths(Config& c, const std::filesystem::path& base) {
  // ":memory:" and "file:" URIs are SQLite names, not paths.
  const std::string& db = c.store.sqlite_path;
  if (db != ":memory:" && db.rfind("file:", 0) != 0) {
    resolve(c.store.sqlite_path, base);
  }
  auto& as = c.authorization_server;
  resolve_listener(as.front, base);
  resolve_listener(as.mtls, base);
  for (auto& cl : as.clients) {
    resolve(cl.jwks_file, base);
  }
  resolve(as.key_encryption_key_file, base);
  resolve(as.registration.initial_access_tokens_file, base);
  resolve(as.registration.software_statement_jwks_file, base);
  resolve_listener(c.gateway.listener, base);
  for (auto& is : c.gateway.issuers) {
    resolve(is.ca_file, base);
    resolve(is.client_cert_file, base);
    resolve(is.client_key_file, base);
    resolve(is.extra_keys_file, base);
  }
  if (c.gateway.upstream_token_signing) {
    resolve(c.gateway.upstream_token_signing->key_file, base);
  }
  for (auto& r : c.gateway.routes) {
    if (r.upstream_tls) {
      resolve(r.upstream_tls->ca_file, base);
      resolve(r.upstream_tls->client_cert_file, base);
      resolve(r.upstream_tls->client_key_file, base);
    }
  }
  resolve_listener(c.demo_api.listener, base);
  resolve_listener(c.admin.listener, base);
  resolve(c.pid_file, base);
}

// A check about `path` is redundant when the loader already reported that key or a key above it.
bool covered_by(const std::string& path, const std::vector<Issue>& reported) {
  for (const auto& r : reported) {
    if (r.path.empty()) {
      return true;
    }
    if (path.size() >= r.path.size() && path.compare(0, r.path.size(), r.path) == 0 &&
        (path.size() == r.path.size() || path[r.path.size()] == '.' ||
         path[r.path.size()] == '[')) {
      return true;
    }
  }
  return false;
}

LoadResult finish(LoadResult& r, Issues& is, const std::string& source) {
  for (const auto& i : is.list()) {
    r.errors.push_back(detail::format_issue(source, i));
  }
  if (is.truncated()) {
    r.errors.push_back(detail::format_issue(
        source, {"", "too many errors; only the first " + std::to_string(kMaxIssues) +
                         " are shown"}));
  }
  return std::move(r);
}

LoadResult load_impl(std::string_view yaml, const std::string& source,
                     const std::filesystem::path& base_dir) {
  LoadResult r;
  r.config.source = source;
  Issues is;
  if (yaml.size() > kMaxFileBytes) {
    is.add("", "larger than the 1 MiB limit");
    return finish(r, is, source);
  }
  try {
    const std::string text(yaml);
    {
      std::istringstream in(text);
      YAML::Parser parser(in);
      BudgetCounter counter;
      try {
        while (parser.HandleNextDocument(counter)) {
        }
      } catch (const OverBudget&) {
        is.add("", "document too large or too deeply nested once aliases are expanded "
                   "(limits: " + std::to_string(kMaxNodes) + " nodes, depth " +
                       std::to_string(kMaxDepth) + ")");
        return finish(r, is, source);
      }
      if (counter.documents > 1) {
        is.add("", "expected one YAML document, found " + std::to_string(counter.documents));
        return finish(r, is, source);
      }
    }
    const YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull()) {
      is.add("", "the document is empty; expected a mapping of settings");
      return finish(r, is, source);
    }
    if (!root.IsMap()) {
      is.add("", std::string("the top level must be a mapping of settings, got ") +
                     type_name(root));
      return finish(r, is, source);
    }
    read_config(is, root, r.config);
    resolve_paths(r.config, base_dir);
    // Semantic checks run even after schema errors, so that one run reports everything.
    std::vector<Issue> loader_issues = is.list();
    loader_issues.insert(loader_issues.end(), is.covered().begin(), is.covered().end());
    for (auto& v : detail::validate_issues(r.config)) {
      if (!covered_by(v.path, loader_issues)) {
        is.add(std::move(v.path), std::move(v.message));
      }
    }
    return finish(r, is, source);
  } catch (const YAML::Exception& e) {
    Issues syntax;
    std::string where;
    if (!e.mark.is_null()) {
      where = "line " + std::to_string(e.mark.line + 1) + ", column " +
              std::to_string(e.mark.column + 1) + ": ";
    }
    syntax.add("", "invalid YAML: " + where + e.msg);
    return finish(r, syntax, source);
  } catch (const std::exception& e) {
    Issues other;
    other.add("", std::string("cannot read the configuration: ") + e.what());
    return finish(r, other, source);
  }
}

}  // namespace

LoadResult load_string(std::string_view yaml, const std::string& source) {
  return load_impl(yaml, source, {});
}

LoadResult load_string(std::string_view yaml, const std::string& source,
                       const std::string& base_dir) {
  return load_impl(yaml, source, std::filesystem::path(base_dir));
}

LoadResult load_file(const std::string& path) {
  auto fail = [&path](std::string message) {
    LoadResult r;
    r.config.source = path;
    r.errors.push_back(detail::format_issue(path, {"", std::move(message)}));
    return r;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(std::string("cannot open: ") + std::strerror(errno));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return fail(std::string("cannot stat: ") + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail("not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFileBytes) {
    return fail("larger than the 1 MiB limit");
  }
  // Read at most one byte past the limit: the size can change between fstat and read.
  std::string text;
  text.resize(kMaxFileBytes + 1);
  std::size_t len = 0;
  while (len < text.size()) {
    ssize_t n = ::read(fd, text.data() + len, text.size() - len);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(std::string("cannot read: ") + std::strerror(errno));
    }
    if (n == 0) {
      break;
    }
    len += static_cast<std::size_t>(n);
  }
  if (len > kMaxFileBytes) {
    return fail("larger than the 1 MiB limit");
  }
  text.resize(len);
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  std::filesystem::path base = ec ? std::filesystem::path(path).parent_path() : abs.parent_path();
  if (base.empty()) {
    base = ".";
  }
  try {
    return load_impl(text, path, base);
  } catch (const std::exception& e) {
    return fail(std::string("cannot read the configuration: ") + e.what());
  }
}

}  // namespace fapigate::config
