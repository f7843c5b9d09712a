#include "as/html.hpp"

#include "core/strings.hpp"

namespace fapigate::as {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

http::Response html_page(std::string_view title, std::string_view body_html,
                         const PageOptions& options) {
  http::Response r;
  r.status = options.status;
  r.body = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>" + html_escape(title) + "</title>"
           "<style>body{font-family:sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}"
           "label{display:block;margin:.5rem 0}input[type=text],input[type=password]"
           "{width:100%;padding:.4rem}button{padding:.4rem 1rem;margin:.5rem .5rem 0 0}"
           ".error{color:#a00}table{border-collapse:collapse}td,th{padding:.3rem .6rem;"
           "border-bottom:1px solid #ccc;text-align:left}</style></head><body>\n";
  r.body += body_html;
  r.body += "\n</body></html>\n";
  r.headers.set("Content-Type", "text/html; charset=utf-8");
  r.headers.add("Cache-Control", "no-store");
  r.headers.add("Pragma", "no-cache");
  std::string form_action = "'self'";
  if (!options.form_action_extra.empty()) {
    form_action += " " + options.form_action_extra;
  }
  r.headers.add("Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action " + form_action +
                    "; frame-ancestors 'none'; base-uri 'none'");
  r.headers.add("X-Frame-Options", "DENY");
  r.headers.add("Referrer-Policy", "no-referrer");
  r.headers.add("X-Content-Type-Options", "nosniff");
  r.headers.add("Strict-Transport-Security", "max-age=31536000");
  return r;
}

std::optional<std::string> cookie_value(const http::Request& request, std::string_view name) {
  for (const auto& f : request.headers) {
    if (!core::iequals(f.name, "Cookie")) {
      continue;
    }
    for (auto part : core::split(f.value, ';')) {
      part = core::trim(part);
      auto eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == name) {
        return std::string(part.substr(eq + 1));
      }
    }
  }
  return std::nullopt;
}

std::string url_origin(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return {};
  }
  auto host_end = url.find_first_of("/?#", scheme_end + 3);
  std::string origin(url.substr(0, host_end));
  // A CSP source must not carry characters that would end or split the directive.
  for (char c : origin) {
    if (c == ';' || c == ',' || c == ' ' || c == '\'' || static_cast<unsigned char>(c) < 0x21) {
      return {};
    }
  }
  return origin;
}

}  // namespace fapigate::as
