#include "as/endpoints/registration.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include <boost/json/serialize.hpp>

#include "as/checks/client_assertion.hpp"
#include "as/checks/client_auth.hpp"
#include "as/checks/client_metadata.hpp"
#include "core/files.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"

namespace fapigate::as {
namespace {

namespace json = boost::json;
namespace log = core::log;

constexpr std::string_view kRegisterPath = "/register";
constexpr std::size_t kMaxBearerBytes = 512;
constexpr std::size_t kMaxClientIdBytes = 256;
constexpr std::size_t kMaxFileBytes = 64 * 1024;

bool is_b64url_hash(std::string_view h) {
  return h.size() == 43 && std::all_of(h.begin(), h.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

Result<std::string> read_bounded(const std::string& path, std::string_view key) {
  auto fail = [&](std::string_view why) {
    log::error("registration_config_invalid",
               {{"key", key}, {"file", path}, {"reason", std::string(why)}});
    return make_error_code(boost::system::errc::invalid_argument);
  };
  auto text = core::read_file_bounded(path, kMaxFileBytes);
  if (!text) {
    return fail(text.error() == boost::system::errc::file_too_large ? "larger than 64 KiB"
                                                                     : "cannot open the file");
  }
  return text;
}

http::Response refuse(const OAuthError& e, std::string_view op, std::string_view client_id) {
  const auto level = e.code == OAuthErrc::ServerError ? log::Level::Error : log::Level::Warn;
  log::write(level, "registration_refused",
             {{"op", op},
              {"error", errc_name(e.code)},
              {"client_id", client_id},
              {"detail", e.detail.empty() ? e.description : e.detail}});
  return to_response(e);
}

OAuthError server_error(std::string detail) {
  return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                     std::move(detail));
}

OAuthError invalid_token(std::string detail) {
  return oauth_error(OAuthErrc::InvalidToken, "the access token is missing, invalid or not for "
                                              "this client", std::move(detail));
}

// RFC 6750 §2.1: exactly one Authorization header, scheme Bearer (case-insensitive).
std::optional<std::string_view> bearer_token(const http::Request& r) {
  if (r.headers.count("Authorization") != 1) {
    return std::nullopt;
  }
  std::string_view v = *r.headers.get("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (v.size() <= kScheme.size() || !core::iequals(v.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string_view token = core::trim(v.substr(kScheme.size()));
  if (token.empty() || token.size() > kMaxBearerBytes ||
      token.find_first_of(" \t,\"") != std::string_view::npos) {
    return std::nullopt;
  }
  return token;
}

// Registration lives on the mTLS alias listener: the front listener never asks for a
// certificate, so a request without one came the wrong way (or without mTLS at all).
std::optional<OAuthError> require_certificate(const http::Request& r) {
  if (!r.peer_certificate) {
    return oauth_error(OAuthErrc::InvalidClient,
                       "registration requires mutual TLS: use "
                       "mtls_endpoint_aliases.registration_endpoint",
                       "no client certificate");
  }
  return std::nullopt;
}

// The certificate presented must be one the registered client could authenticate with, so a
// partner cannot register (or move) a client onto someone else's certificate identity.
std::optional<OAuthError> check_certificate(const http::Request& r,
                                            const store::ClientRecord& rec) {
  const http::PeerCertificate& cert = *r.peer_certificate;
  if (rec.token_endpoint_auth_method == "self_signed_tls_client_auth") {
    // RFC 8705 §2.2: no chain, but the certificate must be one of the registered keys.
    if (!certificate_matches_jwks(cert, rec)) {
      return oauth_error(OAuthErrc::InvalidClientMetadata,
                         "the client certificate presented is not among the keys in jwks "
                         "(RFC 8705 2.2)");
    }
    return std::nullopt;
  }
  if (!cert.chain_verified) {
    return oauth_error(OAuthErrc::InvalidClient,
                       "the client certificate is not issued by a trusted CA",
                       "unverified certificate " + cert.x5t_s256.substr(0, 12));
  }
  if (rec.token_endpoint_auth_method == "tls_client_auth" &&
      !certificate_matches_client(cert, rec)) {
    return oauth_error(OAuthErrc::InvalidClientMetadata,
                       "the tls_client_auth_* value does not match the client certificate "
                       "presented (RFC 8705 2.1.2)",
                       "certificate subject " + cert.subject_dn);
  }
  return std::nullopt;
}

// RFC 7591 §3.1: the metadata is a JSON object in the body.
OAuthResult<json::object> read_json_body(const http::Request& r) {
  auto type = r.headers.get("Content-Type");
  if (!type ||
      !core::iequals(core::trim(core::split(*type, ';').front()), "application/json")) {
    return oauth_error(OAuthErrc::InvalidRequest,
                       "the body must be application/json (RFC 7591 3.1)");
  }
  // Depth: metadata, jwks, keys, a key, its x5c array.
  auto body = core::parse_json_object(r.body, core::JsonLimits{64 * 1024, 8});
  if (!body) {
    return oauth_error(OAuthErrc::InvalidClientMetadata, "the body must be a JSON object");
  }
  return std::move(*body);
}

// The statement's claims first (RFC 7591 §2.3), then the policy checks.
OAuthResult<RegisteredMetadata> metadata_from(const AsContext& ctx, json::object body) {
  const Registration& reg = *ctx.registration;
  const json::value* ss = body.if_contains("software_statement");
  if (ss && !ss->is_null()) {
    if (!ss->is_string()) {
      return oauth_error(OAuthErrc::InvalidSoftwareStatement,
                         "software_statement must be a string (a signed JWT)");
    }
    auto claims = verify_software_statement(ss->get_string(), reg.statement_trust(),
                                            ctx.clock->now());
    if (!claims) {
      return claims.error();
    }
    auto merged = apply_software_statement(std::move(body), *claims);
    if (!merged) {
      return merged.error();
    }
    body = std::move(*merged);
  } else if (reg.settings().software_statement_required) {
    return oauth_error(OAuthErrc::InvalidSoftwareStatement,
                       "a software_statement is required by this server");
  }
  return validate_client_metadata(body, ctx.settings);
}

std::string client_uri(const AsContext& ctx, std::string_view client_id) {
  const auto& s = ctx.settings;
  const std::string& base = s.mtls_base_url.empty() ? s.issuer : s.mtls_base_url;
  return base + std::string(kRegisterPath) + "/" + std::string(client_id);
}

// 256 random bits, stored only as its SHA-256 (like every token here). It does not expire by
// time; it dies with the client or when a PUT rotates it.
OAuthResult<std::string> issue_registration_token(const AsContext& ctx,
                                                  const std::string& client_id) {
  std::string token = crypto::random_token(32);
  store::TokenRecord t;
  t.token_hash = crypto::sha256_b64url(token);
  t.kind = std::string(kRegistrationAccessTokenKind);
  t.jti = crypto::random_token(16);
  t.client_id = client_id;
  t.issued_at = ctx.clock->now();
  t.expires_at = std::numeric_limits<std::int64_t>::max();
  // Never shares a grant with the client's other tokens, so revoking a grant leaves it alone.
  t.grant_id = "registration:" + client_id;
  if (auto put = ctx.store->put_token(t); !put) {
    return server_error("storing the registration access token failed: " +
                        put.error().message());
  }
  return token;
}

// RFC 7591 §3.2.1 + RFC 7592 §3: the metadata as registered, plus the server's members.
http::Response client_information(const AsContext& ctx, const store::ClientRecord& rec,
                                  std::string_view registration_token, int status) {
  json::object o;
  if (auto meta = core::parse_json_object(rec.metadata_json, core::JsonLimits{256 * 1024, 16})) {
    o = std::move(*meta);
  }
  o["client_id"] = rec.client_id;
  o["client_id_issued_at"] = rec.created_at;
  o["registration_access_token"] = registration_token;
  o["registration_client_uri"] = client_uri(ctx, rec.client_id);
  auto r = http::Response::json(status, json::serialize(o));
  r.headers.add("Cache-Control", "no-store");
  r.headers.add("Pragma", "no-cache");
  return r;
}

http::Response method_not_allowed(std::string_view allow) {
  auto r = to_response(oauth_error(OAuthErrc::InvalidRequest, "method not allowed"));
  r.status = 405;
  r.headers.add("Allow", std::string(allow));
  return r;
}

http::Response register_client(const AsContext& ctx, const http::Request& req) {
  constexpr std::string_view op = "register";
  if (auto e = require_certificate(req)) {
    return refuse(*e, op, "");
  }
  auto iat = bearer_token(req);
  if (!iat) {
    return refuse(invalid_token("no bearer initial access token"), op, "");
  }
  if (!ctx.registration->initial_access_token_valid(*iat)) {
    return refuse(invalid_token("unknown initial access token " + crypto::fingerprint(*iat)), op,
                  "");
  }
  auto body = read_json_body(req);
  if (!body) {
    return refuse(body.error(), op, "");
  }
  auto registered = metadata_from(ctx, std::move(*body));
  if (!registered) {
    return refuse(registered.error(), op, "");
  }
  store::ClientRecord& rec = registered->record;
  if (auto e = check_certificate(req, rec)) {
    return refuse(*e, op, "");
  }
  // 128 random bits: unguessable, and never one of the configured (human-chosen) ids.
  rec.client_id = crypto::random_token(16);
  rec.created_at = ctx.clock->now();
  if (auto put = ctx.store->put_client(rec); !put) {
    return refuse(server_error("storing the client failed: " + put.error().message()), op,
                  rec.client_id);
  }
  auto token = issue_registration_token(ctx, rec.client_id);
  if (!token) {
    (void)ctx.store->delete_client(rec.client_id);
    return refuse(token.error(), op, rec.client_id);
  }
  log::info("client_registered", {{"client_id", rec.client_id},
                                  {"method", rec.token_endpoint_auth_method},
                                  {"initial_access_token", crypto::fingerprint(*iat)}});
  return client_information(ctx, rec, *token, 201);
}

struct Authorized {
  store::ClientRecord client;
  std::string token_hash;
};

// RFC 7592 §2: the registration access token of exactly this client. Unknown client: 401 too
// (§2.1), and the token is revoked.
OAuthResult<Authorized> authorize_management(const AsContext& ctx, const http::Request& req,
                                             const std::string& client_id) {
  auto token = bearer_token(req);
  if (!token) {
    return invalid_token("no bearer registration access token");
  }
  const std::string hash = crypto::sha256_b64url(*token);
  auto found = ctx.store->find_token(hash);
  if (!found) {
    return server_error("token lookup failed: " + found.error().message());
  }
  const auto& t = *found;
  if (!t || t->kind != kRegistrationAccessTokenKind || t->revoked ||
      t->expires_at < ctx.clock->now()) {
    return invalid_token("unknown, revoked or non-registration token " +
                         crypto::fingerprint(*token));
  }
  if (t->client_id != client_id) {
    return invalid_token("registration access token of " + t->client_id + " used for " +
                         client_id);
  }
  auto client = ctx.store->find_client(client_id);
  if (!client) {
    return server_error("client lookup failed: " + client.error().message());
  }
  if (!*client) {
    (void)ctx.store->revoke_token(hash);
    return invalid_token("client " + client_id + " no longer exists");
  }
  return Authorized{std::move(**client), hash};
}

http::Response update_client(const AsContext& ctx, const http::Request& req, Authorized auth) {
  constexpr std::string_view op = "update";
  const std::string& id = auth.client.client_id;
  auto body = read_json_body(req);
  if (!body) {
    return refuse(body.error(), op, id);
  }
  // RFC 7592 §2.2: server-assigned members are not the client's to send.
  for (std::string_view m : {"registration_access_token", "registration_client_uri",
                             "client_id_issued_at", "client_secret_expires_at"}) {
    if (body->contains(m)) {
      return refuse(oauth_error(OAuthErrc::InvalidRequest,
                                std::string(m) + " must not be sent (RFC 7592 2.2)"),
                    op, id);
    }
  }
  auto sent_id = core::get_string(*body, "client_id");
  if (!sent_id || *sent_id != id) {
    return refuse(oauth_error(OAuthErrc::InvalidRequest,
                              "client_id must be sent and be this client's (RFC 7592 2.2)"),
                  op, id);
  }
  body->erase("client_id");
  auto registered = metadata_from(ctx, std::move(*body));
  if (!registered) {
    return refuse(registered.error(), op, id);
  }
  store::ClientRecord& rec = registered->record;
  if (auto e = check_certificate(req, rec)) {
    return refuse(*e, op, id);
  }
  rec.client_id = id;
  rec.created_at = auth.client.created_at;
  // RFC 7592 §2.2 lets the server rotate the token: the new one is stored first, so a failure
  // leaves the client with a working token either way.
  auto token = issue_registration_token(ctx, id);
  if (!token) {
    return refuse(token.error(), op, id);
  }
  if (auto put = ctx.store->put_client(rec); !put) {
    (void)ctx.store->revoke_token(crypto::sha256_b64url(*token));
    return refuse(server_error("storing the client failed: " + put.error().message()), op, id);
  }
  ctx.client_changed(id);
  if (auto revoked = ctx.store->revoke_token(auth.token_hash); !revoked) {
    log::error("registration_token_rotation_failed",
               {{"client_id", id}, {"detail", revoked.error().message()}});
  }
  log::info("client_updated", {{"client_id", id}, {"method", rec.token_endpoint_auth_method}});
  return client_information(ctx, rec, *token, 200);
}

http::Response manage_client(const AsContext& ctx, const http::Request& req) {
  const std::string id = req.path.substr(kRegisterPath.size() + 1);
  const std::string op = req.method == "GET" ? "read" : req.method == "PUT" ? "update" : "delete";
  if (req.method != "GET" && req.method != "PUT" && req.method != "DELETE") {
    return method_not_allowed("GET, PUT, DELETE");
  }
  if (auto e = require_certificate(req)) {
    return refuse(*e, op, "");
  }
  if (id.empty() || id.size() > kMaxClientIdBytes || id.find('/') != std::string::npos) {
    // Not a client this server could have issued: the same answer as an unknown one.
    return refuse(invalid_token("malformed client_id in the path"), op, "");
  }
  auto auth = authorize_management(ctx, req, id);
  if (!auth) {
    return refuse(auth.error(), op, id);
  }
  if (req.method == "GET") {
    // The client holds this token already (it just sent it); RFC 7592 §3 wants it in the
    // response, and it stays valid.
    return client_information(ctx, auth->client, *bearer_token(req), 200);
  }
  if (req.method == "PUT") {
    return update_client(ctx, req, std::move(*auth));
  }
  // RFC 7592 §2.3: the client, its tokens and codes, and this token go (ON DELETE CASCADE).
  if (auto del = ctx.store->delete_client(id); !del) {
    return refuse(server_error("deleting the client failed: " + del.error().message()), op, id);
  }
  ctx.client_changed(id);
  log::info("client_deleted", {{"client_id", id}});
  http::Response r;
  r.status = 204;
  r.headers.add("Cache-Control", "no-store");
  r.headers.add("Pragma", "no-cache");
  return r;
}

}  // namespace

Result<std::shared_ptr<const Registration>> Registration::create(
    const config::DynamicRegistration& settings) {
  const std::string p = "authorization_server.registration.";
  auto reg = std::make_shared<Registration>();
  reg->settings_ = settings;
  for (const auto& h : settings.initial_access_tokens) {
    if (!is_b64url_hash(h)) {
      log::error("registration_config_invalid",
                 {{"key", p + "initial_access_tokens"}, {"reason", "not a base64url SHA-256"}});
      return make_error_code(boost::system::errc::invalid_argument);
    }
    reg->token_hashes_.push_back(h);
  }
  if (!settings.initial_access_tokens_file.empty()) {
    const std::string key = p + "initial_access_tokens_file";
    auto text = read_bounded(settings.initial_access_tokens_file, key);
    if (!text) {
      return text.error();
    }
    std::size_t line_no = 0;
    for (auto line : core::split(*text, '\n')) {
      ++line_no;
      line = core::trim(line);
      if (line.empty() || line.front() == '#') {
        continue;
      }
      if (!is_b64url_hash(line)) {
        log::error("registration_config_invalid",
                   {{"key", key},
                    {"file", settings.initial_access_tokens_file},
                    {"line", static_cast<unsigned long>(line_no)},
                    {"reason", "not a base64url SHA-256 (43 characters)"}});
        return make_error_code(boost::system::errc::invalid_argument);
      }
      reg->token_hashes_.emplace_back(line);
    }
  }
  if (reg->token_hashes_.empty()) {
    log::error("registration_config_invalid",
               {{"key", p + "initial_access_tokens"}, {"reason", "no initial access token"}});
    return make_error_code(boost::system::errc::invalid_argument);
  }
  if (!settings.software_statement_jwks_file.empty()) {
    const std::string key = p + "software_statement_jwks_file";
    auto text = read_bounded(settings.software_statement_jwks_file, key);
    if (!text) {
      return text.error();
    }
    // The directory's public keys: a private member is refused like a client's would be.
    auto jwks = parse_client_jwks(*text);
    if (!jwks || jwks->keys.empty()) {
      log::error("registration_config_invalid",
                 {{"key", key},
                  {"file", settings.software_statement_jwks_file},
                  {"reason", "not a public JWKS with a usable key (RSA >= 2048, EC P-256)"}});
      return make_error_code(boost::system::errc::invalid_argument);
    }
    reg->trust_.keys = std::make_shared<const jose::VerifierSet>(*jwks);
    reg->trust_.issuer = settings.software_statement_issuer;
  }
  reg->trust_.max_age = settings.software_statement_max_age;
  log::info("registration_enabled",
            {{"initial_access_tokens", static_cast<unsigned long>(reg->token_hashes_.size())},
             {"software_statement_required", settings.software_statement_required},
             {"software_statement_issuer", settings.software_statement_issuer}});
  return std::shared_ptr<const Registration>(std::move(reg));
}

bool Registration::initial_access_token_valid(std::string_view token) const {
  const std::string hash = crypto::sha256_b64url(token);
  bool match = false;
  for (const auto& h : token_hashes_) {
    // Every hash is compared, so the time does not tell which one (or whether one) matched.
    match |= crypto::constant_time_equal(hash, h);
  }
  return match;
}

http::Response registration_endpoint(const AsContext& ctx, const http::Request& request) {
  if (!ctx.registration) {
    return http::Response::json(404, R"({"error":"not_found"})");
  }
  if (request.path == kRegisterPath) {
    return request.method == "POST" ? register_client(ctx, request) : method_not_allowed("POST");
  }
  return manage_client(ctx, request);
}

}  // namespace fapigate::as
