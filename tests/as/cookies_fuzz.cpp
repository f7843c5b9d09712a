// libFuzzer target: the Cookie header parser of the AS front channel (as::cookie_value, which
// finds the browser-session cookie behind /authorize, login, consent and the CSRF token).
// Input: a cookie name, '\n', then Cookie header values separated by '\n' (a request may carry
// several). Invariants: a value is only found under exactly that name, it never spans a ';',
// it is a verbatim piece of one header, and its ends are trimmed as RFC 6265 §5.2 says.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "as/html.hpp"
#include "core/strings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nl = in.find('\n');
  const std::string_view name = in.substr(0, nl);
  fapigate::http::Request req;
  std::size_t headers = 0;
  if (nl != std::string_view::npos) {
    for (auto v : fapigate::core::split(in.substr(nl + 1), '\n')) {
      // Every other value under another spelling of the name: RFC 9110 §5.1, case-insensitive.
      req.headers.add(headers % 2 == 0 ? "Cookie" : "cOOKIE", std::string(v));
      ++headers;
    }
  }
  req.headers.add("Set-Cookie", std::string(in));  // never read as a request cookie

  const auto value = fapigate::as::cookie_value(req, name);
  if (!value) {
    return 0;
  }
  if (headers == 0) {
    std::abort();  // found in Set-Cookie or out of thin air
  }
  if (name.find('=') != std::string_view::npos || name.find(';') != std::string_view::npos) {
    std::abort();  // a name with a separator in it can never be a cookie-name
  }
  if (value->find(';') != std::string::npos) {
    std::abort();
  }
  if (!value->empty() && (value->back() == ' ' || value->back() == '\t')) {
    std::abort();
  }
  bool found = false;
  const std::string pair = std::string(name) + "=" + *value;
  for (const auto& f : req.headers) {
    if (fapigate::core::iequals(f.name, "Cookie") && f.value.find(pair) != std::string::npos) {
      found = true;
    }
  }
  if (!found) {
    std::abort();
  }
  return 0;
}
