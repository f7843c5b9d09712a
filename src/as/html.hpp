// Server-rendered pages of the authorization server (login, consent, consents, errors, the
// JARM form_post): no JavaScript, every interpolated value escaped, and the headers a page
// that takes credentials needs (no caching, no framing, no referrer, strict CSP, HSTS).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace fapigate::as {

// Escapes & < > " ' (and nothing else) for text and double- or single-quoted attribute values.
std::string html_escape(std::string_view s);

struct PageOptions {
  int status = 200;
  // Extra origins a form on the page may submit to (CSP form-action): the client's redirect
  // origin on pages whose POST ends in a redirect to it (browsers apply form-action to the
  // redirect too).
  std::string form_action_extra;
};

// A complete HTML document around `body_html` (already escaped by the caller) with the
// security headers: Cache-Control no-store, CSP (default-src 'none'; style-src
// 'unsafe-inline'; form-action 'self' [+extra]; frame-ancestors 'none'; base-uri 'none'),
// X-Frame-Options DENY, Referrer-Policy no-referrer, X-Content-Type-Options nosniff, HSTS.
http::Response html_page(std::string_view title, std::string_view body_html,
                         const PageOptions& options = {});

// The value of cookie `name` in the request's Cookie header(s), if present (RFC 6265 §5.4).
std::optional<std::string> cookie_value(const http::Request& request, std::string_view name);

// "scheme://host[:port]" of an absolute URL, empty when it has none.
std::string url_origin(std::string_view url);

}  // namespace fapigate::as
