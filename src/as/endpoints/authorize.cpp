// The authorization endpoint (RFC 6749 §3.1, §4.1; OIDC Core §3.1.2, §3.3.2) and its pages.
//
// A request arrives either as client_id + request_uri from PAR (FAPI 2.0 SP §5.3.2.2-3: the
// only way for fapi2 clients), or, for a FAPI 1.0 Advanced client that does not require PAR, as
// a signed request object by value (F1-01, F1-11), which is validated and then kept exactly
// like a pushed one. Errors that cannot be sent back safely (unknown client, bad request_uri,
// an invalid request whose redirect_uri is not trusted) are shown as a page and never
// redirected (F2-09, F1-15); every validation failure at this endpoint is such a page, since a
// valid pushed request was already checked in full.
//
// The browser flow: GET /authorize shows the login page (or the consent page when the browser
// has a session); the login form posts to /authorize/login (303 back to /authorize); the
// consent form posts to /authorize/consent, which consumes the pushed request atomically (not
// on page load, FAPI 2.0 SP §5.3.2.2 note 3), stores the code and the consent, and answers the
// client with 303 (never 307, F2-23) or, for form_post.jwt, an auto-post page that needs no
// script. Every page carries a CSRF token bound to the session cookie.
#include <algorithm>
#include <ctime>
#include <variant>

#include <boost/json/serialize.hpp>

#include "as/endpoints/endpoints.hpp"
#include "as/endpoints/front_channel.hpp"
#include "as/html.hpp"
#include "as/id_token.hpp"
#include "as/password.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "crypto/digest.hpp"
#include "jose/jws.hpp"

namespace fapigate::as {
namespace {

namespace log = core::log;
using Params = std::map<std::string, std::string>;

// An authorization request on its way through the pages.
struct Pending {
  store::ClientRecord client;
  ClientPolicy policy;
  store::PushedRequestRecord record;
  AuthorizationRequest authz;
  std::string request_uri;
};

// The browser: its session cookie value (a fresh one when it sent none) and, once logged in,
// the session it names.
struct Browser {
  std::string cookie;
  bool fresh = false;
  std::optional<store::BrowserSessionRecord> session;
};

std::optional<std::string_view> param(const Params& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second);
}

bool well_formed_cookie(std::string_view v) {
  return v.size() == 43 && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

std::string session_hash(std::string_view cookie) {
  return crypto::sha256_b64url("fapigate-session:" + std::string(cookie));
}

void set_session_cookie(http::Response& r, const std::string& value) {
  r.headers.add("Set-Cookie", std::string(kSessionCookie) + "=" + value +
                                  "; Path=/; Secure; HttpOnly; SameSite=Lax");
}

Result<Browser> browser_of(const AsContext& ctx, const http::Request& req) {
  Browser b;
  auto c = cookie_value(req, kSessionCookie);
  if (c && well_formed_cookie(*c)) {
    b.cookie = *c;
    auto s = ctx.store->find_session(session_hash(b.cookie), ctx.clock->now());
    if (!s) {
      return s.error();
    }
    b.session = std::move(*s);
  } else {
    b.cookie = crypto::random_token(32);
    b.fresh = true;
  }
  return b;
}

http::Response with_cookie(http::Response r, const Browser& b) {
  if (b.fresh) {
    set_session_cookie(r, b.cookie);
  }
  return r;
}

// ---- pages ------------------------------------------------------------------------------------

http::Response error_page(const OAuthError& e, int status = 400) {
  log::write(e.code == OAuthErrc::ServerError ? log::Level::Error : log::Level::Warn,
             "authorize_error_page",
             {{"error", std::string(errc_name(e.code))},
              {"detail", e.detail.empty() ? e.description : e.detail}});
  PageOptions o;
  o.status = e.code == OAuthErrc::ServerError ? 500 : status;
  std::string body = "<h1>The request cannot be completed</h1>\n<p class=\"error\">" +
                     html_escape(e.description) + "</p>\n<p>Error code: <code>" +
                     html_escape(errc_name(e.code)) +
                     "</code></p>\n<p>Return to the application you came from and start "
                     "again.</p>";
  return html_page("Authorization error", body, o);
}

http::Response forbidden_page() {
  PageOptions o;
  o.status = 403;
  return html_page("Request refused",
                   "<h1>Request refused</h1>\n<p class=\"error\">This form has expired or was "
                   "not sent from this site (CSRF check failed). Go back, reload the page and "
                   "try again.</p>",
                   o);
}

std::string hidden(std::string_view name, std::string_view value) {
  return "<input type=\"hidden\" name=\"" + html_escape(name) + "\" value=\"" +
         html_escape(value) + "\">";
}

// The login form; `pending` is null when signing in to manage consents.
http::Response login_page(const Browser& b, const Pending* pending, std::string_view message,
                          int status = 200) {
  std::string body = "<h1>Sign in</h1>\n";
  if (pending) {
    body += "<p><strong>" + html_escape(pending->client.client_id) +
            "</strong> asks you to sign in to authorize access.</p>\n";
  } else {
    body += "<p>Sign in to see the access you have granted.</p>\n";
  }
  if (!message.empty()) {
    body += "<p class=\"error\" role=\"alert\">" + html_escape(message) + "</p>\n";
  }
  body += "<form method=\"post\" action=\"/authorize/login\">\n" +
          hidden("csrf_token", csrf_token_for(b.cookie)) + "\n";
  if (pending) {
    body += hidden("client_id", pending->client.client_id) + hidden("request_uri", pending->request_uri);
  } else {
    body += hidden("next", "consents");
  }
  body +=
      "\n<label>Username <input type=\"text\" name=\"username\" autocomplete=\"username\" "
      "required></label>\n<label>Password <input type=\"password\" name=\"password\" "
      "autocomplete=\"current-password\" required></label>\n"
      "<button type=\"submit\">Sign in</button>";
  if (pending) {
    body += "<button type=\"submit\" name=\"cancel\" value=\"1\" formnovalidate>Cancel</button>";
  }
  body += "\n</form>";
  PageOptions o;
  o.status = status;
  if (pending) {
    // Cancel ends in a redirect to the client.
    o.form_action_extra = url_origin(pending->authz.redirect_uri);
  }
  return with_cookie(html_page("Sign in", body, o), b);
}

std::string_view scope_text(std::string_view scope) {
  if (scope == "openid") return "Confirm your identity to the application";
  if (scope == "accounts") return "Read your account information";
  if (scope == "payments") return "Initiate payments from your accounts";
  return {};
}

http::Response consent_page(const Browser& b, const Pending& p) {
  std::string body = "<h1>Authorize access</h1>\n<p>Signed in as <strong>" +
                     html_escape(b.session->subject) + "</strong>.</p>\n<p><strong>" +
                     html_escape(p.client.client_id) +
                     "</strong> asks for access to:</p>\n<ul>\n";
  for (const auto& s : p.authz.scopes) {
    body += "<li><code>" + html_escape(s) + "</code>";
    if (auto t = scope_text(s); !t.empty()) {
      body += " &mdash; " + html_escape(t);
    }
    body += "</li>\n";
  }
  body += "</ul>\n<p>You will be returned to <code>" + html_escape(p.authz.redirect_uri) +
          "</code>. You can withdraw this consent at any time under <a href=\"/consents\">"
          "Your consents</a>.</p>\n<form method=\"post\" action=\"/authorize/consent\">\n" +
          hidden("csrf_token", csrf_token_for(b.cookie)) + hidden("client_id", p.client.client_id) +
          hidden("request_uri", p.request_uri) +
          "\n<button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>"
          "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n</form>";
  PageOptions o;
  o.form_action_extra = url_origin(p.authz.redirect_uri);
  return with_cookie(html_page("Authorize access", body, o), b);
}

http::Response see_other(std::string location) {
  http::Response r;
  // FAPI 2.0 SP §5.3.2.2-10/-11: 303 makes the browser drop the POSTed credentials.
  r.status = 303;
  r.headers.add("Location", std::move(location));
  r.headers.add("Cache-Control", "no-store");
  r.headers.add("Pragma", "no-cache");
  r.headers.add("Referrer-Policy", "no-referrer");
  return r;
}

std::string authorize_url(const Pending& p) {
  return "/authorize?" + core::form_encode({{"client_id", p.client.client_id},
                                            {"request_uri", p.request_uri}});
}

// ---- loading the request ----------------------------------------------------------------------

OAuthResult<store::ClientRecord> find_client(const AsContext& ctx, std::optional<std::string_view> id) {
  if (!id || id->empty() || id->size() > 256) {
    return oauth_error(OAuthErrc::InvalidRequest, "client_id is required");
  }
  auto found = ctx.find_client(std::string(*id));
  if (!found) {
    return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                       "find_client: " + found.error().message());
  }
  if (!*found) {
    return oauth_error(OAuthErrc::InvalidRequest, "the client is unknown",
                       "unknown client_id " + std::string(id->substr(0, 64)));
  }
  return std::move(**found);
}

// The pushed request behind (client_id, request_uri): issued to that client, not expired, not
// used (RFC 9126 §4, §7.3; N-33, N-35, N-36).
OAuthResult<Pending> load_pending(const AsContext& ctx, std::optional<std::string_view> client_id,
                                  std::optional<std::string_view> request_uri) {
  auto client = find_client(ctx, client_id);
  if (!client) {
    return client.error();
  }
  auto bad = [](std::string d, std::string detail) {
    return oauth_error(OAuthErrc::InvalidRequestUri, std::move(d), std::move(detail));
  };
  if (!request_uri || request_uri->size() > 256 ||
      request_uri->substr(0, kRequestUriPrefix.size()) != kRequestUriPrefix) {
    return bad("request_uri is missing or not one this server issued", "request_uri shape");
  }
  auto rec = ctx.store->find_pushed_request(request_uri_hash(*request_uri));
  if (!rec) {
    return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                       "find_pushed_request: " + rec.error().message());
  }
  if (!*rec || (*rec)->client_id != client->client_id) {
    return bad("request_uri is unknown or was issued to another client",
               "request_uri " + crypto::fingerprint(*request_uri) + " not for " +
                   client->client_id);
  }
  if ((*rec)->used) {
    return bad("request_uri was already used", "request_uri reused");
  }
  if ((*rec)->expires_at < ctx.clock->now()) {
    return bad("request_uri has expired", "request_uri expired");
  }
  auto json = core::parse_json_object((*rec)->params_json);
  std::optional<AuthorizationRequest> authz;
  if (json) {
    authz = AuthorizationRequest::from_json(*json);
  }
  if (!authz) {
    return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                       "stored pushed request does not decode");
  }
  Pending p;
  p.policy = client_policy(*client, ctx.settings);
  p.client = std::move(*client);
  p.record = std::move(**rec);
  p.authz = std::move(*authz);
  p.request_uri = std::string(*request_uri);
  return p;
}

// A FAPI 1.0 Advanced request object by value: validated, then stored as if it had been pushed
// (without a certificate binding: none was presented) so the pages handle one kind of request.
OAuthResult<Pending> accept_request_object(const AsContext& ctx, const store::ClientRecord& client,
                                           const Params& outside) {
  const ClientPolicy policy = client_policy(client, ctx.settings);
  if (policy.require_pushed_authorization_requests) {
    // FAPI 2.0 SP §5.3.2.2-3 / RFC 9126 §5: this client must push its requests.
    return oauth_error(OAuthErrc::InvalidRequest,
                       "this client must use pushed authorization requests (PAR)");
  }
  auto authz = authorization_request_from_object(ctx, client, policy, *param(outside, "request"));
  if (!authz) {
    return authz.error();
  }
  // OIDC Core §6.1 / FAPI 1.0 Part 2 §5.2.3-9: response_type (and client_id) also outside, and
  // equal to the object's; only the inside values are used (F1-04).
  auto rt = param(outside, "response_type");
  if (!rt) {
    return oauth_error(OAuthErrc::InvalidRequest, "response_type is required");
  }
  auto parts = core::split_scopes(*rt);
  std::sort(parts.begin(), parts.end());
  std::string normalized;
  for (const auto& s : parts) {
    normalized += normalized.empty() ? s : " " + s;
  }
  if (normalized != authz->response_type) {
    return oauth_error(OAuthErrc::InvalidRequest,
                       "response_type differs inside and outside the request object");
  }
  const std::int64_t now = ctx.clock->now();
  Pending p;
  p.client = client;
  p.policy = policy;
  p.authz = std::move(*authz);
  p.request_uri = std::string(kRequestUriPrefix) + crypto::random_token(32);
  p.record.request_uri_hash = request_uri_hash(p.request_uri);
  p.record.client_id = client.client_id;
  p.record.params_json = boost::json::serialize(p.authz.to_json());
  p.record.created_at = now;
  p.record.expires_at = now + kPushedRequestLifetime;
  if (auto put = ctx.store->put_pushed_request(p.record); !put) {
    return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                       "put_pushed_request: " + put.error().message());
  }
  return p;
}

// ---- the response to the client ----------------------------------------------------------------

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string join_url(const std::string& base, char sep, const std::string& encoded) {
  if (sep == '?' && base.find('?') != std::string::npos) {
    return base + "&" + encoded;
  }
  return base + sep + encoded;
}

OAuthResult<std::string> jarm_jwt(const AsContext& ctx, const Pending& p, const Pairs& pairs) {
  // JARM §2.1: iss, aud = client_id, exp, then every response parameter (errors too).
  const std::int64_t now = ctx.clock->now();
  boost::json::object claims;
  claims["iss"] = ctx.settings.issuer;
  claims["aud"] = p.client.client_id;
  claims["iat"] = now;
  claims["exp"] = now + kJarmLifetime;
  for (const auto& [k, v] : pairs) {
    if (k != "iss") {
      claims[k] = v;
    }
  }
  // JARM §2.2 / §3: signed with the client's authorization_signed_response_alg.
  auto view = ctx.keys->view();
  auto alg = jose::parse_alg(p.policy.authorization_signed_response_alg);
  const auto* key = alg ? view->signer_for(*alg) : nullptr;
  if (!key) {
    return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                       "no signing key for authorization_signed_response_alg " +
                           p.policy.authorization_signed_response_alg);
  }
  auto jwt = jose::sign_compact(boost::json::serialize(claims), *key->signer, key->kid);
  if (!jwt) {
    return oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                       "jarm signing: " + jwt.error().message());
  }
  return std::move(*jwt);
}

// The authorization response in the request's response mode. `pairs` holds code (+ id_token)
// or error (+ error_description); state and iss are added here (RFC 9207 §2: iss in every
// response, F2-20; inside the JWT with JARM).
http::Response respond_to_client(const AsContext& ctx, const Pending& p, Pairs pairs) {
  if (p.authz.has_state) {
    pairs.emplace_back("state", p.authz.state);
  }
  pairs.emplace_back("iss", ctx.settings.issuer);
  const std::string& uri = p.authz.redirect_uri;
  switch (p.authz.response_mode) {
    case ResponseMode::Query:
      return see_other(join_url(uri, '?', core::form_encode(pairs)));
    case ResponseMode::Fragment:
      return see_other(join_url(uri, '#', core::form_encode(pairs)));
    case ResponseMode::Jwt:
    case ResponseMode::FormPostJwt: {
      auto jwt = jarm_jwt(ctx, p, pairs);
      if (!jwt) {
        return error_page(jwt.error());
      }
      if (p.authz.response_mode == ResponseMode::Jwt) {
        return see_other(join_url(uri, '?', core::form_encode({{"response", *jwt}})));
      }
      // JARM §2.3.3 / OAuth 2.0 Form Post Response Mode: a form the user agent posts to the
      // client. Without script it needs one click; the text says so.
      std::string body =
          "<h1>Returning to the application</h1>\n<p>Press Continue to return to <code>" +
          html_escape(uri) + "</code>.</p>\n<form method=\"post\" action=\"" + html_escape(uri) +
          "\">" + hidden("response", *jwt) +
          "<button type=\"submit\">Continue</button></form>";
      PageOptions o;
      o.form_action_extra = url_origin(uri);
      return html_page("Returning to the application", body, o);
    }
  }
  return error_page(oauth_error(OAuthErrc::ServerError, "unsupported response mode"));
}

http::Response deny(const AsContext& ctx, const Pending& p, std::string_view why) {
  log::info("authorization_denied", {{"client_id", p.client.client_id}, {"reason", std::string(why)}});
  return respond_to_client(ctx, p,
                           {{"error", "access_denied"},
                            {"error_description", "the user did not authorize the request"}});
}

// Consumes the pushed request (exactly once), then the code, the consent, and the response.
http::Response complete(const AsContext& ctx, const Pending& p,
                        const store::BrowserSessionRecord& session, bool approved) {
  const std::int64_t now = ctx.clock->now();
  auto consumed = ctx.store->consume_pushed_request(p.record.request_uri_hash, now);
  if (!consumed) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  "consume_pushed_request: " + consumed.error().message()));
  }
  if (!*consumed) {
    // Another tab finished first, or it expired meanwhile (RFC 9126 §7.3).
    return error_page(oauth_error(OAuthErrc::InvalidRequestUri,
                                  "this authorization request was already completed or has expired"));
  }
  if (!approved) {
    return deny(ctx, p, "user denied consent");
  }
  // FAPI 2.0 SP §5.4.1-4: 256 bits from the CSPRNG; only the hash is stored.
  const std::string code = crypto::random_token(32);
  store::AuthorizationCodeRecord rec;
  rec.code_hash = crypto::sha256_b64url(code);
  rec.client_id = p.client.client_id;
  rec.subject = session.subject;
  rec.scope = p.authz.scope();
  rec.redirect_uri = p.authz.redirect_uri;
  rec.code_challenge = p.authz.code_challenge;
  rec.nonce = p.authz.nonce;
  rec.auth_time = session.auth_time;
  rec.acr = ctx.settings.login_acr;  // the login page is the only authentication there is
  rec.cnf_x5t_s256 = p.record.cnf_x5t_s256;
  rec.grant_id = crypto::random_token(16);
  rec.issued_at = now;
  rec.expires_at = now + kAuthorizationCodeLifetime;
  if (auto put = ctx.store->put_code(rec); !put) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  "put_code: " + put.error().message()));
  }
  store::ConsentRecord consent;
  consent.consent_id = crypto::random_token(16);
  consent.subject = session.subject;
  consent.client_id = p.client.client_id;
  consent.scope = rec.scope;
  consent.grant_id = rec.grant_id;
  consent.granted_at = now;
  if (auto put = ctx.store->put_consent(consent); !put) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  "put_consent: " + put.error().message()));
  }
  Pairs pairs{{"code", code}};
  if (p.authz.response_type == "code id_token") {
    // FAPI 1.0 Part 2 §5.2.2.1: the ID token is a detached signature over code and state.
    IdTokenParams idp = id_token_params_for(p.client, p.policy);
    idp.subject = session.subject;
    idp.nonce = p.authz.nonce;
    idp.auth_time = session.auth_time;
    idp.acr = rec.acr;
    idp.code = code;
    if (p.authz.has_state) {
      idp.state = p.authz.state;
    }
    auto id_token = issue_id_token(ctx, idp);
    if (!id_token) {
      return error_page(id_token.error());
    }
    pairs.emplace_back("id_token", std::move(*id_token));
  }
  log::info("authorization_code_issued",
            {{"client_id", p.client.client_id},
             {"subject", session.subject},
             {"scope", rec.scope},
             {"code", crypto::fingerprint(code)},
             {"cnf", rec.cnf_x5t_s256.substr(0, 12)}});
  return respond_to_client(ctx, p, std::move(pairs));
}

// ---- endpoints ----------------------------------------------------------------------------------

OAuthResult<Params> read_params(const http::Request& req) {
  if (req.method == "POST") {
    // OIDC Core §3.1.2.1: POST carries the same parameters form-encoded.
    return read_form(req);
  }
  auto p = core::parse_form(req.query);
  if (!p) {
    return oauth_error(OAuthErrc::InvalidRequest,
                       "malformed query, or a parameter was sent more than once");
  }
  return std::move(*p);
}

http::Response authorize(const AsContext& ctx, const http::Request& req) {
  auto params = read_params(req);
  if (!params) {
    return error_page(params.error());
  }
  OAuthResult<Pending> pending = oauth_error(OAuthErrc::ServerError, "");
  auto request_uri = param(*params, "request_uri");
  auto request = param(*params, "request");
  if (request_uri && request) {
    pending = oauth_error(OAuthErrc::InvalidRequest, "send either request or request_uri");
  } else if (request_uri) {
    pending = load_pending(ctx, param(*params, "client_id"), request_uri);
  } else {
    auto client = find_client(ctx, param(*params, "client_id"));
    if (!client) {
      return error_page(client.error());
    }
    if (request) {
      pending = accept_request_object(ctx, *client, *params);
    } else if (client_policy(*client, ctx.settings).profile == FapiProfile::Fapi1Advanced) {
      // FAPI 1.0 Part 2 §5.2.2-1 (N-01).
      pending = oauth_error(OAuthErrc::InvalidRequest, "a signed request object is required");
    } else {
      // FAPI 2.0 SP §5.3.2.2-3 (F2-17, N-01).
      pending = oauth_error(OAuthErrc::InvalidRequest,
                            "authorization requests must be pushed first (PAR)");
    }
  }
  if (!pending) {
    return error_page(pending.error());
  }
  auto browser = browser_of(ctx, req);
  if (!browser) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  "find_session: " + browser.error().message()));
  }
  if (browser->session) {
    return consent_page(*browser, *pending);
  }
  return login_page(*browser, &*pending, {});
}

struct PostedPage {
  Browser browser;
  Params form;
};

// The browser and the form it POSTed from one of our pages, its CSRF token checked against the
// browser's cookie; or the page to answer with instead (a missing or wrong token is 403).
std::variant<PostedPage, http::Response> read_posted_page(const AsContext& ctx,
                                                          const http::Request& req) {
  auto browser = browser_of(ctx, req);
  if (!browser) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  browser.error().message()));
  }
  auto form = read_form(req);
  if (!form) {
    return error_page(form.error());
  }
  auto token = param(*form, "csrf_token");
  if (browser->fresh || !token ||
      !crypto::constant_time_equal(*token, csrf_token_for(browser->cookie))) {
    log::warn("csrf_refused", {{"path", req.path}, {"remote", req.remote_address}});
    return forbidden_page();
  }
  return PostedPage{std::move(*browser), std::move(*form)};
}

Result<bool> throttled(const AsContext& ctx, const std::string& user_key,
                       const std::string& addr_key, std::int64_t now) {
  const auto& s = ctx.settings;
  auto u = ctx.store->login_failures(user_key, now, s.login_failure_window);
  if (!u) {
    return Result<bool>(boost::system::in_place_error, u.error());
  }
  auto a = ctx.store->login_failures(addr_key, now, s.login_failure_window);
  if (!a) {
    return Result<bool>(boost::system::in_place_error, a.error());
  }
  return *u >= s.login_max_failures_per_user || *a >= s.login_max_failures_per_address;
}

// The hash an unknown username is checked against, so that the answer takes as long as for a
// known one (no user enumeration by timing either).
const std::string& dummy_hash() {
  static const std::string h = [] {
    auto r = hash_password("fapigate-no-such-user");
    return r ? *r : std::string();
  }();
  return h;
}

http::Response login_submit(const AsContext& ctx, const http::Request& req) {
  auto posted = read_posted_page(ctx, req);
  if (auto* refusal = std::get_if<http::Response>(&posted)) {
    return std::move(*refusal);
  }
  Browser* browser = &std::get<PostedPage>(posted).browser;
  Params* form = &std::get<PostedPage>(posted).form;
  const bool for_consents = param(*form, "next") == std::optional<std::string_view>("consents");
  std::optional<Pending> pending;
  if (!for_consents) {
    auto p = load_pending(ctx, param(*form, "client_id"), param(*form, "request_uri"));
    if (!p) {
      return error_page(p.error());
    }
    pending = std::move(*p);
    if (param(*form, "cancel")) {
      // RFC 6749 §4.1.2.1 (N-26): the user cancelled; the request is finished.
      auto consumed = ctx.store->consume_pushed_request(pending->record.request_uri_hash,
                                                        ctx.clock->now());
      if (!consumed || !*consumed) {
        return error_page(oauth_error(OAuthErrc::InvalidRequestUri,
                                      "this authorization request was already completed or has expired"));
      }
      return deny(ctx, *pending, "user cancelled the login");
    }
  }
  const Pending* pp = pending ? &*pending : nullptr;
  const std::string username(param(*form, "username").value_or(""));
  const std::string password(param(*form, "password").value_or(""));
  if (username.empty() || password.empty() || username.size() > 256 || password.size() > 1024) {
    return login_page(*browser, pp, "Enter your username and password.", 400);
  }
  const std::int64_t now = ctx.clock->now();
  const std::string user_key = "user:" + crypto::sha256_b64url(username);
  const std::string addr_key = "addr:" + req.remote_address;
  auto limited = throttled(ctx, user_key, addr_key, now);
  if (!limited) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  limited.error().message()));
  }
  if (*limited) {
    log::warn("login_throttled", {{"user", crypto::fingerprint(username)},
                                  {"remote", req.remote_address}});
    return login_page(*browser, pp,
                      "Too many failed sign-in attempts. Wait a few minutes and try again.", 429);
  }
  auto user = ctx.store->find_user(username);
  if (!user) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  user.error().message()));
  }
  const bool ok = verify_password(password, *user ? (*user)->password_hash : dummy_hash()) &&
                  user->has_value();
  if (!ok) {
    (void)ctx.store->note_login_failure(user_key, now, ctx.settings.login_failure_window);
    (void)ctx.store->note_login_failure(addr_key, now, ctx.settings.login_failure_window);
    log::warn("login_failed", {{"user", crypto::fingerprint(username)},
                               {"remote", req.remote_address}});
    // One message whether or not the user exists.
    return login_page(*browser, pp, "The username or password is incorrect.", 401);
  }
  (void)ctx.store->clear_login_failures(user_key);
  // A new session id at login: a cookie planted before login is worth nothing after it.
  Browser logged_in;
  logged_in.cookie = crypto::random_token(32);
  store::BrowserSessionRecord s;
  s.session_hash = session_hash(logged_in.cookie);
  s.subject = username;
  s.auth_time = now;
  s.expires_at = now + kBrowserSessionLifetime;
  if (auto put = ctx.store->put_session(s); !put) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  put.error().message()));
  }
  if (!browser->fresh && browser->session) {
    (void)ctx.store->delete_session(session_hash(browser->cookie));
  }
  log::info("login_succeeded", {{"user", crypto::fingerprint(username)}});
  auto r = see_other(pending ? authorize_url(*pending) : "/consents");
  set_session_cookie(r, logged_in.cookie);
  return r;
}

http::Response consent_submit(const AsContext& ctx, const http::Request& req) {
  auto posted = read_posted_page(ctx, req);
  if (auto* refusal = std::get_if<http::Response>(&posted)) {
    return std::move(*refusal);
  }
  Browser* browser = &std::get<PostedPage>(posted).browser;
  Params* form = &std::get<PostedPage>(posted).form;
  auto p = load_pending(ctx, param(*form, "client_id"), param(*form, "request_uri"));
  if (!p) {
    return error_page(p.error());
  }
  if (!browser->session) {
    // The session expired while the page was open: sign in again.
    return login_page(*browser, &*p, "Your session has expired. Sign in again.", 401);
  }
  auto decision = param(*form, "decision");
  if (!decision || (*decision != "approve" && *decision != "deny")) {
    return error_page(oauth_error(OAuthErrc::InvalidRequest, "choose Allow or Deny"));
  }
  return complete(ctx, *p, *browser->session, *decision == "approve");
}

std::string format_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

http::Response consents_page(const AsContext& ctx, const http::Request& req) {
  auto browser = browser_of(ctx, req);
  if (!browser) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  browser.error().message()));
  }
  if (!browser->session) {
    return login_page(*browser, nullptr, {});
  }
  auto list = ctx.store->list_consents(browser->session->subject);
  if (!list) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  list.error().message()));
  }
  std::string body = "<h1>Your consents</h1>\n<p>Signed in as <strong>" +
                     html_escape(browser->session->subject) + "</strong>.</p>\n";
  if (list->empty()) {
    body += "<p>You have not authorized any application.</p>";
  } else {
    body += "<table><thead><tr><th>Application</th><th>Access</th><th>Granted</th>"
            "<th>Status</th><th></th></tr></thead><tbody>\n";
    for (const auto& c : *list) {
      body += "<tr><td>" + html_escape(c.client_id) + "</td><td><code>" + html_escape(c.scope) +
              "</code></td><td>" + html_escape(format_time(c.granted_at)) + "</td><td>";
      if (c.withdrawn) {
        body += "Withdrawn " + html_escape(format_time(c.withdrawn_at)) + "</td><td></td></tr>\n";
      } else {
        body += "Active</td><td><form method=\"post\" action=\"/consents/withdraw\">" +
                hidden("csrf_token", csrf_token_for(browser->cookie)) +
                hidden("consent_id", c.consent_id) +
                "<button type=\"submit\">Withdraw</button></form></td></tr>\n";
      }
    }
    body += "</tbody></table>";
  }
  return with_cookie(html_page("Your consents", body), *browser);
}

http::Response withdraw_submit(const AsContext& ctx, const http::Request& req) {
  auto posted = read_posted_page(ctx, req);
  if (auto* refusal = std::get_if<http::Response>(&posted)) {
    return std::move(*refusal);
  }
  Browser* browser = &std::get<PostedPage>(posted).browser;
  Params* form = &std::get<PostedPage>(posted).form;
  if (!browser->session) {
    return login_page(*browser, nullptr, "Your session has expired. Sign in again.", 401);
  }
  const std::string id(param(*form, "consent_id").value_or(""));
  // Every token of the grant the consent produced stops working (introspection, refresh; JWT
  // access tokens already issued run out with their short lifetime), and that comes first: a
  // crash or a failed write between the two steps then leaves an Active consent the user can
  // withdraw again, never one shown as Withdrawn whose refresh token still works.
  auto consents = ctx.store->list_consents(browser->session->subject);
  if (!consents) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  consents.error().message()));
  }
  for (const auto& c : *consents) {
    if (c.consent_id != id || c.withdrawn) {
      continue;
    }
    if (auto r = ctx.store->revoke_grant(c.grant_id); !r) {
      return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                    r.error().message()));
    }
  }
  auto withdrawn = ctx.store->withdraw_consent(id, browser->session->subject, ctx.clock->now());
  if (!withdrawn) {
    return error_page(oauth_error(OAuthErrc::ServerError, "the server could not complete the request",
                                  withdrawn.error().message()));
  }
  if (*withdrawn) {
    log::info("consent_withdrawn", {{"client_id", (*withdrawn)->client_id},
                                    {"subject", browser->session->subject}});
  }
  return see_other("/consents");
}

http::Response not_allowed(std::string_view allow) {
  auto r = error_page(oauth_error(OAuthErrc::InvalidRequest, "method not allowed"), 405);
  r.headers.add("Allow", std::string(allow));
  return r;
}

}  // namespace

std::string csrf_token_for(std::string_view session_cookie) {
  return crypto::sha256_b64url("fapigate-csrf:" + std::string(session_cookie));
}

bool is_front_channel_path(std::string_view path) {
  return path == "/authorize" || path == "/authorize/login" || path == "/authorize/consent" ||
         path == "/consents" || path == "/consents/withdraw";
}

http::Response front_channel_endpoint(const AsContext& ctx, const http::Request& req) {
  const std::string& p = req.path;
  const std::string& m = req.method;
  if (p == "/authorize") {
    return m == "GET" || m == "POST" ? authorize(ctx, req) : not_allowed("GET, POST");
  }
  if (p == "/authorize/login") {
    return m == "POST" ? login_submit(ctx, req) : not_allowed("POST");
  }
  if (p == "/authorize/consent") {
    return m == "POST" ? consent_submit(ctx, req) : not_allowed("POST");
  }
  if (p == "/consents") {
    return m == "GET" ? consents_page(ctx, req) : not_allowed("GET");
  }
  if (p == "/consents/withdraw") {
    return m == "POST" ? withdraw_submit(ctx, req) : not_allowed("POST");
  }
  return error_page(oauth_error(OAuthErrc::InvalidRequest, "not found"), 404);
}

}  // namespace fapigate::as
